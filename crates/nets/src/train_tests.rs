//! Tests of the training loop against hand-computed updates on linear regression (whose
//! gradient and Hessian are closed forms), of its stopping rules, and of resuming.

use burn_flex::FlexDevice;

use crate::test_util::*;
use crate::train::{Row, Status, TrainConfig, TrainState, train_on};
use crate::{Arch, Dataset, NetsError, Precision};

/// A linear model (fc-linear with no hidden layer) on d = 3, k = 2.
fn linear_config(lr: f64, steps: usize) -> TrainConfig {
    TrainConfig {
        arch: Arch::FcLinear,
        depth: 0,
        lr,
        steps,
        sharpness_every: 0,
        precision: Precision::F64,
        chunk_size: 4,
        ..TrainConfig::default()
    }
}

fn linear_data() -> Dataset {
    random_data(10, [1, 1, 3], 2, 21)
}

/// The MSE gradient of f = xW + b, by hand: ∇W = Xᵀ(XW + b − Y)/N, ∇b = Σ rows of the same.
fn linear_gradient(data: &Dataset, w: &[f64], b: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (n, d, k) = (data.len(), 3, 2);
    let mut gw = vec![0.0; d * k];
    let mut gb = vec![0.0; k];
    for i in 0..n {
        for c in 0..k {
            let f: f64 = (0..d)
                .map(|a| data.x[i * d + a] * w[a * k + c])
                .sum::<f64>()
                + b[c];
            let r = (f - data.y[i * k + c]) / n as f64;
            gb[c] += r;
            for a in 0..d {
                gw[a * k + c] += data.x[i * d + a] * r;
            }
        }
    }
    (gw, gb)
}

fn run(
    config: &TrainConfig,
    data: &Dataset,
    resume: Option<TrainState>,
) -> (crate::TrainOutcome, Vec<Row>) {
    let mut rows = Vec::new();
    let mut observer = |row: &Row| -> Result<(), NetsError> {
        rows.push(row.clone());
        Ok(())
    };
    let outcome = train_on::<Cpu>(config, data, resume, &mut observer, &FlexDevice).unwrap();
    (outcome, rows)
}

/// Reference momentum run on the host: m ← μm + g; θ ← θ − η(m or g + μm).
fn reference_run(data: &Dataset, config: &TrainConfig) -> Vec<Vec<f64>> {
    let mut theta = config
        .net_spec(data.input_shape, data.outputs)
        .init(1.0, config.seed);
    let mut velocity = [vec![0.0; theta[0].len()], vec![0.0; theta[1].len()]];
    for _ in 0..config.steps {
        let (gw, gb) = linear_gradient(data, &theta[0], &theta[1]);
        for (t, g) in [gw, gb].into_iter().enumerate() {
            for i in 0..g.len() {
                velocity[t][i] = config.momentum * velocity[t][i] + g[i];
                let direction = if config.momentum == 0.0 {
                    g[i]
                } else if config.nesterov {
                    g[i] + config.momentum * velocity[t][i]
                } else {
                    velocity[t][i]
                };
                theta[t][i] -= config.lr * direction;
            }
        }
    }
    theta
}

#[test]
fn gd_heavy_ball_and_nesterov_follow_the_hand_computed_updates() {
    let data = linear_data();
    for (momentum, nesterov) in [(0.0, false), (0.9, false), (0.9, true)] {
        let config = TrainConfig {
            momentum,
            nesterov,
            ..linear_config(0.1, 5)
        };
        let (outcome, rows) = run(&config, &data, None);
        assert_eq!(outcome.summary.status, Status::Completed);
        assert_eq!(rows.len(), 6, "rows at steps 0..=5");
        let expected = reference_run(&data, &config);
        for (got, want) in outcome.state.params.iter().zip(&expected) {
            assert!(
                relative_error(got, want) < 1e-12,
                "μ = {momentum}, nesterov {nesterov}"
            );
        }
    }
}

#[test]
fn sharpness_of_linear_regression_is_top_eigenvalue_of_the_input_gram_matrix() {
    // H = I_k ⊗ [X 1]ᵀ[X 1]/N for f = xW + b: constant along training
    let data = linear_data();
    let (n, d) = (data.len(), 3);
    let mut gram = vec![0.0; (d + 1) * (d + 1)];
    for i in 0..n {
        let row: Vec<f64> = data.x[i * d..(i + 1) * d]
            .iter()
            .copied()
            .chain([1.0])
            .collect();
        for a in 0..=d {
            for b in 0..=d {
                gram[a * (d + 1) + b] += row[a] * row[b] / n as f64;
            }
        }
    }
    let expected = dense_eigenvalues(&gram, d + 1)[0];
    let config = TrainConfig {
        sharpness_every: 2,
        sharpness: crate::SharpnessOptions {
            tol: 1e-10,
            ..Default::default()
        },
        ..linear_config(0.1, 4)
    };
    let (outcome, rows) = run(&config, &data, None);
    let measured: Vec<(usize, f64)> = rows
        .iter()
        .filter_map(|r| r.sharpness.map(|s| (r.step, s)))
        .collect();
    assert_eq!(
        measured.iter().map(|m| m.0).collect::<Vec<_>>(),
        vec![0, 2, 4]
    );
    for (step, value) in &measured {
        assert!(
            (value - expected).abs() < 1e-8,
            "step {step}: {value} vs {expected}"
        );
    }
    assert_eq!(outcome.summary.final_sharpness, Some(measured[2].1));
    assert!(rows.iter().all(|r| r.two_over_lr == 20.0));
}

#[test]
fn every_kth_sharpness_measurement_starts_cold() {
    // A linear model's Hessian does not change with θ, so a warm start is already its top
    // eigenvector and stops at Lanczos's warm minimum of 3 products, while a cold start from
    // the seeded random vector repeats the first measurement's count exactly.
    let data = linear_data();
    let hvps_with = |cold_every: usize| -> Vec<usize> {
        let config = TrainConfig {
            sharpness_every: 1,
            sharpness_cold_every: cold_every,
            sharpness: crate::SharpnessOptions {
                tol: 1e-6,
                ..Default::default()
            },
            ..linear_config(0.1, 5)
        };
        let (_, rows) = run(&config, &data, None);
        rows.iter().map(|r| r.hvps).collect()
    };
    let cold = hvps_with(1);
    assert!(
        cold[0] > 3,
        "a cold start needs more than 3 products: {cold:?}"
    );
    assert!(cold.iter().all(|&h| h == cold[0]), "{cold:?}");
    let c = cold[0];
    assert_eq!(hvps_with(0), vec![c, 3, 3, 3, 3, 3]);
    assert_eq!(hvps_with(2), vec![c, 3, c, 3, c, 3]);
}

#[test]
fn a_step_size_above_two_over_sharpness_diverges_and_keeps_the_last_finite_state() {
    let data = linear_data();
    let (outcome, rows) = run(&linear_config(1e3, 500), &data, None);
    assert_eq!(outcome.summary.status, Status::Diverged);
    let last = rows.last().unwrap();
    assert!(!last.loss.is_finite());
    assert_eq!(outcome.state.step, last.step - 1);
    assert!(outcome.summary.final_loss.is_finite());
    assert!(outcome.state.params.iter().flatten().all(|v| v.is_finite()));
}

#[test]
fn loss_and_accuracy_goals_stop_the_run() {
    let data = linear_data();
    let config = TrainConfig {
        loss_goal: Some(10.0),
        ..linear_config(0.1, 100)
    };
    let (outcome, rows) = run(&config, &data, None);
    assert_eq!(outcome.summary.status, Status::LossGoal);
    assert_eq!(rows.len(), 1, "the initial loss is already below 10");

    let config = TrainConfig {
        acc_goal: Some(0.0),
        ..linear_config(0.1, 100)
    };
    assert_eq!(
        run(&config, &data, None).0.summary.status,
        Status::AccuracyGoal
    );
}

#[test]
fn resuming_from_a_checkpoint_continues_the_same_trajectory() {
    let data = linear_data();
    let config = TrainConfig {
        momentum: 0.5,
        ..linear_config(0.1, 6)
    };
    let (whole, _) = run(&config, &data, None);

    let (first, _) = run(
        &TrainConfig {
            steps: 3,
            ..config.clone()
        },
        &data,
        None,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.safetensors");
    crate::save_checkpoint(&path, &first.state, None, Precision::F64).unwrap();
    let state = crate::load_checkpoint(&path).unwrap().state;
    let (second, rows) = run(&config, &data, Some(state));
    assert_eq!(rows.first().unwrap().step, 3);
    assert_eq!(second.state.step, 6);
    for (a, b) in second.state.params.iter().zip(&whole.state.params) {
        assert!(relative_error(a, b) < 1e-14);
    }
}

#[test]
fn sgd_with_full_batch_equals_gd_and_bad_batch_sizes_are_rejected() {
    let data = linear_data();
    let gd = run(&linear_config(0.1, 3), &data, None).0;
    let sgd_config = TrainConfig {
        batch_size: Some(data.len()),
        ..linear_config(0.1, 3)
    };
    let sgd = run(&sgd_config, &data, None).0;
    for (a, b) in sgd.state.params.iter().zip(&gd.state.params) {
        // the same examples in another order: equal up to summation order
        assert!(relative_error(a, b) < 1e-12);
    }

    let too_big = TrainConfig {
        batch_size: Some(data.len() + 1),
        ..linear_config(0.1, 3)
    };
    let mut ignore = |_: &Row| -> Result<(), NetsError> { Ok(()) };
    let err = train_on::<Cpu>(&too_big, &data, None, &mut ignore, &FlexDevice).unwrap_err();
    assert!(err.to_string().contains("batch size"), "{err}");
}

#[test]
fn f32_training_of_fc_tanh_lowers_the_loss() {
    let data = random_data(20, [1, 1, 6], 3, 31);
    let config = TrainConfig {
        arch: Arch::FcTanh,
        depth: 2,
        width: 16,
        lr: 0.2,
        steps: 20,
        sharpness_every: 10,
        precision: Precision::F32,
        ..TrainConfig::default()
    };
    let (outcome, rows) = run(&config, &data, None);
    assert!(rows.last().unwrap().loss < rows[0].loss);
    assert_eq!(outcome.summary.sharpness.len(), 3);
    assert!(outcome.summary.sharpness.iter().all(|(_, s)| *s > 0.0));
}

#[cfg(not(feature = "wgpu"))]
#[test]
fn wgpu_without_the_feature_is_a_clear_error() {
    let config = TrainConfig {
        backend: crate::BackendKind::Wgpu,
        ..linear_config(0.1, 1)
    };
    let mut ignore = |_: &Row| -> Result<(), NetsError> { Ok(()) };
    let err = crate::train(&config, &linear_data(), None, &mut ignore).unwrap_err();
    assert!(err.to_string().contains("--features wgpu"), "{err}");
}
