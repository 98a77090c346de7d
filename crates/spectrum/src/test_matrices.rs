//! Test matrices with a spectrum known in closed form: H = Q·diag(λ)·Qᵀ with a random
//! orthogonal Q, so the eigenpairs are (λ_i, column i of Q) by construction.
//!
//! # Limitations
//!
//! Dense n×n storage and O(n³) construction: meant for n up to a few hundred.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::DenseSymmetric;

/// A matrix with known eigenpairs.
pub(crate) struct KnownSpectrum {
    pub(crate) matrix: DenseSymmetric,
    /// Orthonormal eigenvectors, `eigenvectors[i]` for `eigenvalues[i]`.
    pub(crate) eigenvectors: Vec<Vec<f64>>,
}

/// n orthonormal vectors of length n: Gram–Schmidt (two passes) on uniform random vectors.
pub(crate) fn random_orthogonal(dim: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut columns: Vec<Vec<f64>> = Vec::with_capacity(dim);
    for _ in 0..dim {
        let mut column: Vec<f64> = (0..dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        for _pass in 0..2 {
            for previous in &columns {
                let overlap: f64 = previous.iter().zip(&column).map(|(p, c)| p * c).sum();
                column
                    .iter_mut()
                    .zip(previous)
                    .for_each(|(c, p)| *c -= overlap * p);
            }
        }
        let length = column.iter().map(|c| c * c).sum::<f64>().sqrt();
        column.iter_mut().for_each(|c| *c /= length);
        columns.push(column);
    }
    columns
}

/// H = Σ_k λ_k q_k q_kᵀ for a random orthogonal Q drawn from `seed`.
pub(crate) fn with_spectrum(eigenvalues: &[f64], seed: u64) -> KnownSpectrum {
    let dim = eigenvalues.len();
    let eigenvectors = random_orthogonal(dim, seed);
    let mut entries = vec![0.0; dim * dim];
    for i in 0..dim {
        for j in i..dim {
            let entry: f64 = eigenvalues
                .iter()
                .zip(&eigenvectors)
                .map(|(value, q)| value * q[i] * q[j])
                .sum();
            entries[i * dim + j] = entry;
            entries[j * dim + i] = entry;
        }
    }
    let matrix = DenseSymmetric::new(dim, entries).expect("Q diag Qᵀ is symmetric");
    KnownSpectrum {
        matrix,
        eigenvectors,
    }
}

/// `count` values spread evenly over [low, high] (both ends included when count ≥ 2).
pub(crate) fn evenly_spaced(count: usize, low: f64, high: f64) -> Vec<f64> {
    let step = if count > 1 {
        (high - low) / (count - 1) as f64
    } else {
        0.0
    };
    (0..count).map(|i| low + step * i as f64).collect()
}

/// ‖Hv − θv‖ computed densely, independently of the solvers.
pub(crate) fn residual_norm(matrix: &DenseSymmetric, value: f64, vector: &[f64]) -> f64 {
    let dim = vector.len();
    (0..dim)
        .map(|i| {
            let product: f64 = (0..dim).map(|j| matrix.get(i, j) * vector[j]).sum();
            (product - value * vector[i]).powi(2)
        })
        .sum::<f64>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::{Mat, Side};

    /// faer's dense eigensolver, an independent check that the construction has the
    /// requested spectrum.
    #[test]
    fn constructed_matrix_has_requested_spectrum() {
        let eigenvalues = [-10.0, 3.0, 2.9, 0.5, 0.0, -0.25];
        let known = with_spectrum(&eigenvalues, 7);
        let dense = Mat::from_fn(6, 6, |i, j| known.matrix.get(i, j));
        let mut computed = dense.self_adjoint_eigenvalues(Side::Lower).unwrap();
        computed.sort_by(f64::total_cmp);
        let mut expected = eigenvalues.to_vec();
        expected.sort_by(f64::total_cmp);
        for (c, e) in computed.iter().zip(&expected) {
            assert!((c - e).abs() < 1e-12, "{c} vs {e}");
        }
    }
}
