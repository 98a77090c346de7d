//! GD steps per second of the minimalist model with the exact sharpness every step, for
//! N = 1,000, d = 3,072, D = 3: real CIFAR-10 cat/dog when the cache exists, else a synthetic
//! matrix with a stated spectrum. Run with `cargo bench -p sharplab-minimalist`.
//!
//! The synthetic matrix is E·diag(σ)·Wᵀ with random orthonormal-ish E, W replaced by seeded
//! Gaussian factors scaled so that σ₁²/N ≈ 300 with a power-law tail σₖ ∝ k^{−1/2}; only its
//! spectrum matters for the cost, which is O(r·D) per step.
//!
//! # Limitations
//!
//! One warm-up run, then one timed run of 20,000 steps; wall-clock time on a shared machine
//! is noisy, so compare numbers from the same machine only.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use sharplab_data::testing::cache_or_skip;
use sharplab_data::{DatasetName, Selection, Split, Standardize, SubsetSpec, Targets, subset};
use sharplab_minimalist::theory::{difficulty, predicted_sharpness};
use sharplab_minimalist::{DEFAULT_CUTOFF, Init, MinimalConfig, Reduced, train};

const N: usize = 1000;
const D_IN: usize = 3072;
const DEPTH: usize = 3;
const STEPS: usize = 20_000;

fn cifar() -> Option<(Vec<f64>, Vec<f64>)> {
    let dataset = cache_or_skip(DatasetName::Cifar10)?;
    let spec = SubsetSpec {
        split: Split::Train,
        classes: Some(vec!["cat".into(), "dog".into()]),
        n: N,
        selection: Selection::Balanced { seed: 0 },
        standardize: Standardize::PerFeature,
    };
    let chosen = subset(dataset, &spec).ok()?;
    let y = chosen.targets(Targets::PlusMinusOne).ok()?;
    Some((chosen.x, y))
}

/// Gaussian rows plus a dominant shared direction (σ₁²/N ≈ 300), y = ±1 at random.
fn synthetic() -> (Vec<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let direction: Vec<f64> = (0..D_IN)
        .map(|_| rng.sample::<f64, _>(StandardNormal))
        .collect();
    let mut x = vec![0.0; N * D_IN];
    for i in 0..N {
        let weight = 0.3 * (1.0 + 0.3 * rng.sample::<f64, _>(StandardNormal));
        for j in 0..D_IN {
            x[i * D_IN + j] = rng.sample::<f64, _>(StandardNormal) + weight * direction[j];
        }
    }
    let y = (0..N)
        .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
        .collect();
    (x, y)
}

fn main() {
    let (source, (x, y)) = match cifar() {
        Some(data) => ("CIFAR-10 cat/dog, per-feature standardized", data),
        None => ("synthetic Gaussian + shared direction", synthetic()),
    };
    let started = Instant::now();
    let reduced = Reduced::new(&x, N, D_IN, &y, DEFAULT_CUTOFF).expect("valid data");
    let svd_seconds = started.elapsed().as_secs_f64();
    let facts = difficulty(&reduced);
    let predicted = predicted_sharpness(facts.sigma1_sq_over_n, facts.q, DEPTH);

    for (label, lr) in [
        ("stable, 2/η = 2·Ŝ_D", 1.0 / predicted),
        ("edge of stability, 2/η = Ŝ_D/2", 4.0 / predicted),
    ] {
        let config = MinimalConfig {
            depth: DEPTH,
            lr,
            steps: STEPS,
            record_every: STEPS,
            stop_at_convergence: false,
            init: Init::Random { scale: 0.05 },
            ..MinimalConfig::default()
        };
        train(
            &reduced,
            &MinimalConfig {
                steps: 1000,
                ..config.clone()
            },
            |_| {},
        )
        .expect("warm-up");
        let started = Instant::now();
        let summary = train(&reduced, &config, |_| {}).expect("valid config");
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{source}: N={N} d={D_IN} D={DEPTH} rank={} ({label}): {:.0} GD steps/s with exact sharpness every step \
             ({STEPS} steps in {seconds:.3} s; final S = {:.3}, 2/η = {:.3}); SVD {svd_seconds:.2} s",
            reduced.rank(),
            STEPS as f64 / seconds,
            summary.final_sharpness,
            summary.two_over_lr,
        );
    }
}
