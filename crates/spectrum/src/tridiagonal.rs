//! Eigen-decomposition of the small symmetric tridiagonal matrix T_m that Lanczos builds.
//!
//! Notation: T_m is m×m with diagonal α₁..α_m and off-diagonal β₁..β_{m−1}; its eigenpairs
//! (θ_i, s_i) are the Ritz values and the coordinates of the Ritz vectors in the Lanczos basis.
//! The dense m×m problem is handed to faer, single-threaded, since m is at most a few hundred.
//!
//! # Limitations
//!
//! O(m³) per call through a dense solver; a dedicated tridiagonal QR would be O(m²) for the
//! values, which only matters for m in the thousands.

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch};
use faer::{Mat, Par};

use crate::error::SpectrumError;

/// The top eigenpairs of T_m, in descending order of eigenvalue.
pub(crate) struct RitzPairs {
    /// θ₁ ≥ θ₂ ≥ …, the top `count` eigenvalues of T_m.
    pub(crate) values: Vec<f64>,
    /// For each value, its unit eigenvector s_i of length m.
    pub(crate) vectors: Vec<Vec<f64>>,
}

/// The `count` largest eigenpairs of the tridiagonal matrix with diagonal `alpha` (length m)
/// and off-diagonal `beta` (length m − 1). `count` is clamped to m.
pub(crate) fn top_eigenpairs(
    alpha: &[f64],
    beta: &[f64],
    count: usize,
) -> Result<RitzPairs, SpectrumError> {
    let size = alpha.len();
    debug_assert_eq!(beta.len() + 1, size.max(1));
    let tridiagonal = Mat::from_fn(size, size, |i, j| match i.abs_diff(j) {
        0 => alpha[i],
        1 => beta[i.min(j)],
        _ => 0.0,
    });

    let mut values = Diag::<f64>::zeros(size);
    let mut vectors = Mat::<f64>::zeros(size, size);
    let scratch = self_adjoint_evd_scratch::<f64>(
        size,
        ComputeEigenvectors::Yes,
        Par::Seq,
        Default::default(),
    );
    self_adjoint_evd(
        tridiagonal.as_ref(),
        values.as_mut(),
        Some(vectors.as_mut()),
        Par::Seq,
        MemStack::new(&mut MemBuffer::new(scratch)),
        Default::default(),
    )
    .map_err(|_| SpectrumError::TridiagonalNoConvergence { size })?;

    // faer sorts ascending: take the last `count` columns, largest first.
    let ascending = values.column_vector();
    let top: Vec<usize> = (0..size).rev().take(count).collect();
    Ok(RitzPairs {
        values: top.iter().map(|&i| ascending[i]).collect(),
        vectors: top
            .iter()
            .map(|&i| vectors.col(i).iter().copied().collect())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The m×m tridiagonal Toeplitz matrix with diagonal a and off-diagonal b has eigenvalues
    /// a + 2b·cos(jπ/(m+1)), j = 1..m, with eigenvectors sin(ijπ/(m+1)).
    #[test]
    fn toeplitz_tridiagonal_matches_closed_form() {
        let (size, a, b) = (7, 2.0, -0.5);
        let pairs = top_eigenpairs(&vec![a; size], &vec![b; size - 1], 3).unwrap();
        let angle = std::f64::consts::PI / (size as f64 + 1.0);

        // b < 0, so the largest is j = m, then m − 1, m − 2.
        for (rank, value) in pairs.values.iter().enumerate() {
            let j = (size - rank) as f64;
            assert!((value - (a + 2.0 * b * (j * angle).cos())).abs() < 1e-12);
        }
        let j = size as f64;
        let exact: Vec<f64> = (1..=size).map(|i| (i as f64 * j * angle).sin()).collect();
        let exact_norm = exact.iter().map(|x| x * x).sum::<f64>().sqrt();
        let overlap: f64 = exact
            .iter()
            .zip(&pairs.vectors[0])
            .map(|(x, y)| x * y)
            .sum();
        assert!((overlap.abs() / exact_norm - 1.0).abs() < 1e-12);
    }

    #[test]
    fn one_by_one_is_its_entry() {
        let pairs = top_eigenpairs(&[-3.5], &[], 4).unwrap();
        assert_eq!(pairs.values, vec![-3.5]);
        assert_eq!(pairs.vectors.len(), 1);
        assert!((pairs.vectors[0][0].abs() - 1.0).abs() < 1e-15);
    }
}
