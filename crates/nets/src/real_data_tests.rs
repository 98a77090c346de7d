//! Cross-checks on real CIFAR-10: the burn minimalist module's sharpness, from exact HVPs by
//! power iteration, against `sharplab-minimalist`'s exact sharpness (the top root of its
//! arrowhead Hessian's secular equation), at initialization and after training.
//!
//! These tests need the CIFAR-10 cache (`sharplab data prepare`); without it they skip, unless
//! `SHARPLAB_REQUIRE_DATA=1`.

use sharplab_data::testing::cache_or_skip;
use sharplab_data::{DatasetName, Selection, Split, Standardize, SubsetSpec, Targets, subset};
use sharplab_minimalist::{Arrowhead, DEFAULT_CUTOFF, Reduced};

use crate::sharpness::{Estimator, SharpnessOptions, estimate_sharpness};
use crate::test_util::*;
use crate::{Arch, Dataset, Loss};

/// The exact sharpness of the minimalist model at (u, v), computed by `sharplab-minimalist`.
fn closed_form_sharpness(reduced: &Reduced, u: &[f64], v: &[f64]) -> f64 {
    let (alpha, _outside) = reduced.split(u);
    Arrowhead::at(
        reduced.sigma(),
        reduced.target_coef(),
        reduced.n(),
        &alpha,
        v,
    )
    .top_eigenvalue(None)
}

#[test]
fn minimalist_module_power_iteration_matches_exact_sharpness_on_cifar10() {
    let Some(cifar) = cache_or_skip(DatasetName::Cifar10) else {
        return;
    };
    let chosen = subset(
        cifar,
        &SubsetSpec {
            split: Split::Train,
            classes: Some(vec!["cat".into(), "dog".into()]),
            n: 200,
            selection: Selection::Balanced { seed: 0 },
            standardize: Standardize::PerFeature,
        },
    )
    .unwrap();
    let y = chosen.targets(Targets::PlusMinusOne).unwrap();
    let reduced = Reduced::new(&chosen.x, chosen.n, chosen.d, &y, DEFAULT_CUTOFF).unwrap();
    let data = Dataset::new(chosen.x.clone(), y, chosen.shape, 1).unwrap();

    let depth = 3;
    let spec = spec(Arch::Minimalist, chosen.shape, 1, depth, 0);
    let problem = problem(&spec, Loss::Mse, &data, 64);
    let options = SharpnessOptions {
        estimator: Estimator::Power,
        tol: 1e-6,
        max_products: 3000,
        ..SharpnessOptions::default()
    };
    let mut params = problem.upload_params(&spec.init(1.0, 5)).unwrap();
    let lr = 1e-3; // below 2/S throughout: S starts near σ₁²/N ≈ 770 and stays under 2/η
    for stage in ["initialization", "300 GD steps"] {
        let estimate = estimate_sharpness(&problem, &params, &options, None).unwrap();
        let theta = problem.download_params(&params).unwrap();
        let exact = closed_form_sharpness(&reduced, &theta[0], &theta[1]);
        let measured = estimate.sharpness();
        assert!(
            (measured - exact).abs() < 1e-4 * exact,
            "{stage}: power iteration {measured} vs exact {exact}"
        );

        if stage != "initialization" {
            break;
        }
        for _ in 0..300 {
            let (_, gradient) = problem.loss_and_gradient(&params).unwrap();
            let stepped: Vec<f64> = flatten(&problem, &params)
                .iter()
                .zip(flatten(&problem, &gradient))
                .map(|(t, g)| t - lr * g)
                .collect();
            params = problem.upload_flat(&stepped).unwrap();
        }
    }
}
