//! Shared helpers for the crate's tests: seeded random problems and dense eigenvalues (faer),
//! both independent of the code under test.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// A seeded problem: X [n, d] with N(0, 1) entries, y ∈ {±1}ⁿ.
pub fn random_problem(n: usize, d: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = (0..n * d)
        .map(|_| rng.sample::<f64, _>(StandardNormal))
        .collect();
    let y = (0..n)
        .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
        .collect();
    (x, y)
}

/// A seeded vector with N(0, scale²) entries.
pub fn random_vector(len: usize, scale: f64, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len)
        .map(|_| scale * rng.sample::<f64, _>(StandardNormal))
        .collect()
}

/// All eigenvalues (ascending) of a dense symmetric matrix, by faer.
pub fn dense_eigenvalues(matrix: &[f64], size: usize) -> Vec<f64> {
    let mat = faer::Mat::<f64>::from_fn(size, size, |i, j| {
        0.5 * (matrix[i * size + j] + matrix[j * size + i])
    });
    mat.self_adjoint_eigenvalues(faer::Side::Lower)
        .expect("dense eigenvalues")
}

/// Relative difference |a − b| / max(|b|, floor).
pub fn relative(a: f64, b: f64, floor: f64) -> f64 {
    (a - b).abs() / b.abs().max(floor)
}

/// Largest relative difference of two vectors, relative to the norm of the second.
pub fn relative_vec(a: &[f64], b: &[f64]) -> f64 {
    let norm = b.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-300);
    let diff = a
        .iter()
        .zip(b)
        .map(|(p, q)| (p - q).powi(2))
        .sum::<f64>()
        .sqrt();
    diff / norm
}
