//! Lanczos with full reorthogonalisation for the top-k algebraic eigenvalues of H.
//!
//! Notation: q₁ = start/‖start‖, and after m products the orthonormal basis Q_m = [q₁ … q_m]
//! satisfies H Q_m = Q_m T_m + β_m q_{m+1} e_mᵀ, where T_m is tridiagonal with diagonal
//! α_j = ⟨q_j, Hq_j⟩ and off-diagonal β_j. An eigenpair (θ_i, s_i) of T_m gives the Ritz pair
//! (θ_i, y_i = Q_m s_i), whose residual is exactly ‖Hy_i − θ_i y_i‖ = |β_m · s_{m,i}|, with
//! s_{m,i} the last component of s_i. The solver stops as soon as this bound, relative to
//! |θ_i|, is below `tol` for each of the top k Ritz values, checking after every product once
//! m ≥ k; so a warm start that is already a good eigenvector (k = 1) stops after very few
//! products.
//!
//! Accuracy: a Ritz value whose bound is r lies within r of an eigenvalue of H, and within
//! r²/gap once a gap separates that eigenvalue from the rest; so `tol = 1e-3` already gives
//! θ₁ to 1e-3 relative, usually far better.
//!
//! Each new vector Hq_m is orthogonalised against the whole basis twice (modified
//! Gram–Schmidt, "twice is enough"); the first pass subsumes the three-term recurrence. This
//! keeps Q_m orthonormal to rounding, so no spurious copies of converged Ritz values appear.
//! Vector work is O(n·m) per product and the stored basis is m·n floats.
//!
//! If β_m ≈ 0 the basis spans an invariant subspace and its Ritz values are exact: the solver
//! stops if it has k of them, and otherwise continues from a random vector orthogonal to the
//! basis (with β_m = 0 in T_m), so that k values can still be found.
//!
//! # Limitations
//!
//! Lanczos sees only the part of the spectrum its Krylov space reaches: a start vector with
//! no component along an eigenvector never finds that eigenvalue, and a multiple eigenvalue
//! appears once unless a restart after an invariant subspace finds its other copies. The
//! whole basis is kept in memory (m·n·8 bytes: 5.3 MB per product at n = 656,810). Nothing is
//! restarted to save memory, so `max_products` also bounds memory.

use tracing::warn;

use crate::error::SpectrumError;
use crate::krylov::Krylov;
use crate::operator::{CountedOperator, SymmetricOperator};
use crate::tridiagonal::{RitzPairs, top_eigenpairs};
use crate::vector::{check_max_products, check_tolerance, relative, seeded_rng, start_vector};

/// Options of [`lanczos`].
#[derive(Debug, Clone, PartialEq)]
pub struct LanczosOptions {
    /// Number of top algebraic eigenvalues wanted (at least 1; clamped to the dimension).
    pub k: usize,
    /// Stop once each of the top k relative residual bounds |β_m s_{m,i}|/|θ_i| is below this.
    pub tol: f64,
    /// At most this many products v ↦ Hv (= Lanczos vectors m).
    pub max_products: usize,
    /// At least this many products before the stopping test may end the run (clamped to the
    /// dimension; default 1). A warm start that is already an eigenvector of a lower
    /// eigenvalue (the previous top one, since overtaken) passes the test after one product;
    /// a few more let the Krylov space reach the direction that overtook it.
    pub min_products: usize,
    /// Warm start, used as the first Lanczos vector q₁ (e.g. the previous top eigenvector);
    /// `None` draws a random one from `seed`.
    pub start: Option<Vec<f64>>,
    /// Seed of the random start vector and of any restart vector.
    pub seed: u64,
}

impl Default for LanczosOptions {
    fn default() -> Self {
        Self {
            k: 1,
            tol: 1e-6,
            max_products: 200,
            min_products: 1,
            start: None,
            seed: 0,
        }
    }
}

/// The top-k Ritz pairs, in descending order of eigenvalue.
#[derive(Debug, Clone, PartialEq)]
pub struct LanczosResult {
    /// Ritz values θ₁ ≥ θ₂ ≥ … (top k algebraic; fewer only if the dimension is below k or a
    /// restart failed).
    pub values: Vec<f64>,
    /// Unit Ritz vectors y_i, of the operator's dimension, in the order of `values`.
    pub vectors: Vec<Vec<f64>>,
    /// Relative residuals ‖Hy_i − θ_i y_i‖/|θ_i| = |β_m s_{m,i}|/|θ_i|.
    pub residuals: Vec<f64>,
    /// Products v ↦ Hv made.
    pub products: usize,
    /// Whether every residual is below `tol`.
    pub converged: bool,
}

/// β_m at or below this times the largest |α_j|, |β_j| seen counts as an invariant subspace.
const INVARIANT_TOL: f64 = 1e-12;

/// Estimates the top `opts.k` eigenpairs of `op` by Lanczos (see the module documentation).
///
/// A dimension-0 operator gives an empty, converged result. Errors on an invalid option, a
/// start vector of the wrong length or zero, and a failed or non-finite product.
pub fn lanczos(
    op: &mut dyn SymmetricOperator,
    opts: &LanczosOptions,
) -> Result<LanczosResult, SpectrumError> {
    check_options(opts)?;
    let dim = op.dim();
    let wanted = opts.k.min(dim);
    if dim == 0 {
        return Ok(LanczosResult::empty());
    }
    let min_products = opts.min_products.min(dim);
    let mut rng = seeded_rng(opts.seed);
    let mut state = Krylov::new(start_vector(opts.start.as_deref(), dim, &mut rng)?);
    let mut op = CountedOperator::new(op);

    loop {
        let (next, beta_m) = state.extend(&mut op)?;
        let m = state.basis.len();
        let invariant = beta_m <= INVARIANT_TOL * state.scale || m == dim;
        let exhausted = op.products >= opts.max_products;

        // The stopping test, after every product once there are k Ritz values (and at least
        // `min_products` products).
        if (m >= wanted && op.products >= min_products) || exhausted {
            let ritz = top_eigenpairs(&state.alpha, &state.beta, wanted)?;
            let residuals = ritz_residuals(&ritz, if invariant { 0.0 } else { beta_m });
            let converged = residuals.len() == wanted && residuals.iter().all(|r| *r < opts.tol);
            if converged || exhausted {
                return Ok(state.finish(ritz, residuals, op.products, converged));
            }
        }

        if !invariant {
            state.append(next, beta_m);
        } else if !state.append_restart(&mut rng) {
            // Fewer than k exact values, and no direction left to explore.
            warn!(
                m,
                "lanczos: no restart vector found; returning fewer than k values"
            );
            let ritz = top_eigenpairs(&state.alpha, &state.beta, wanted)?;
            let residuals = vec![0.0; ritz.values.len()];
            return Ok(state.finish(ritz, residuals, op.products, false));
        }
    }
}

impl LanczosResult {
    /// The result for a dimension-0 operator: no eigenvalues, nothing to converge.
    fn empty() -> Self {
        Self {
            values: vec![],
            vectors: vec![],
            residuals: vec![],
            products: 0,
            converged: true,
        }
    }
}

fn check_options(opts: &LanczosOptions) -> Result<(), SpectrumError> {
    check_tolerance(opts.tol)?;
    check_max_products(opts.max_products)?;
    if opts.k == 0 {
        return Err(SpectrumError::InvalidOption {
            name: "k",
            reason: "must be at least 1 (the number of top eigenvalues wanted)".to_string(),
        });
    }
    Ok(())
}

/// Relative residual bounds |β_m s_{m,i}|/|θ_i| of the Ritz pairs.
fn ritz_residuals(ritz: &RitzPairs, beta_m: f64) -> Vec<f64> {
    let iter = ritz.values.iter().zip(&ritz.vectors);
    iter.map(|(value, s)| relative((beta_m * s[s.len() - 1]).abs(), *value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_matrices::{evenly_spaced, residual_norm, with_spectrum};
    use crate::vector::{axpy, dot, norm};
    use crate::{DenseSymmetric, FnOperator};

    fn options(k: usize, tol: f64, max_products: usize) -> LanczosOptions {
        LanczosOptions {
            k,
            tol,
            max_products,
            ..LanczosOptions::default()
        }
    }

    #[test]
    fn negative_dominant_spectrum_gives_largest_algebraic() {
        let mut eigenvalues = vec![-10.0, 3.0, 2.9];
        eigenvalues.extend(evenly_spaced(57, -1.0, 1.0));
        let mut known = with_spectrum(&eigenvalues, 11);
        let result = lanczos(&mut known.matrix, &options(1, 1e-10, 60)).unwrap();
        assert!(result.converged);
        assert!(
            (result.values[0] - 3.0).abs() < 1e-10,
            "{:?}",
            result.values
        );
    }

    #[test]
    fn near_degenerate_top_pair_is_resolved() {
        let mut eigenvalues = vec![1.0, 0.999];
        eigenvalues.extend(evenly_spaced(98, 0.0, 0.5));
        let mut known = with_spectrum(&eigenvalues, 12);
        let result = lanczos(&mut known.matrix, &options(2, 1e-9, 100)).unwrap();
        assert!(result.converged);
        assert!((result.values[0] - 1.0).abs() < 1e-8, "{:?}", result.values);
        assert!(
            (result.values[1] - 0.999).abs() < 1e-8,
            "{:?}",
            result.values
        );
        for (i, vector) in result.vectors.iter().enumerate() {
            assert!((dot(vector, &known.eigenvectors[i]).abs() - 1.0).abs() < 1e-8);
        }
    }

    #[test]
    fn outliers_above_a_clustered_bulk_converge_in_few_products() {
        let mut eigenvalues = vec![5.0, 3.0, 2.0];
        eigenvalues.extend(evenly_spaced(197, 0.0, 0.1));
        let mut known = with_spectrum(&eigenvalues, 13);
        let result = lanczos(&mut known.matrix, &options(3, 1e-8, 200)).unwrap();
        assert!(result.converged);
        for (value, exact) in result.values.iter().zip(&eigenvalues) {
            assert!((value - exact).abs() < 1e-10, "{:?}", result.values);
        }
        // Three well-separated outliers over a narrow bulk: far fewer products than n = 200.
        assert!(result.products < 40, "{} products", result.products);
    }

    #[test]
    fn reported_residuals_match_dense_residuals_and_vectors_are_orthonormal() {
        let mut eigenvalues = vec![4.0, 3.5, 3.0];
        eigenvalues.extend(evenly_spaced(37, -2.0, 2.0));
        let mut known = with_spectrum(&eigenvalues, 14);
        let result = lanczos(&mut known.matrix, &options(3, 1e-4, 100)).unwrap();
        for (i, (value, vector)) in result.values.iter().zip(&result.vectors).enumerate() {
            let dense = residual_norm(&known.matrix, *value, vector) / value.abs();
            assert!((dense - result.residuals[i]).abs() < 1e-10 + 1e-6 * dense);
            for (j, other) in result.vectors.iter().enumerate() {
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((dot(vector, other) - expected).abs() < 1e-10);
            }
        }
    }

    #[test]
    fn warm_start_near_the_top_eigenvector_needs_few_products() {
        let mut eigenvalues = vec![10.0, 8.0, 7.5];
        eigenvalues.extend(evenly_spaced(297, -0.5, 3.0));
        let mut known = with_spectrum(&eigenvalues, 15);
        // The previous eigenvector, perturbed by 1e-2 in a random direction.
        let noise = crate::vector::random_vector(&mut seeded_rng(99), 300);
        let mut start = known.eigenvectors[0].clone();
        axpy(1e-2 / norm(&noise), &noise, &mut start);

        let cold = lanczos(&mut known.matrix, &options(1, 1e-3, 300)).unwrap();
        let warm_opts = LanczosOptions {
            start: Some(start),
            ..options(1, 1e-3, 300)
        };
        let warm = lanczos(&mut known.matrix, &warm_opts).unwrap();
        assert!(warm.converged && cold.converged);
        assert!(warm.products <= 8 && warm.products < cold.products);
        assert!(
            (warm.values[0] - 10.0).abs() < 1e-3 * 10.0,
            "{}",
            warm.values[0]
        );
    }

    #[test]
    fn warm_start_from_the_previous_operator_gives_sharpness_to_1e_3_in_8_products() {
        // A training step: H changes to H + E; the previous top eigenvector starts Lanczos.
        let mut eigenvalues = vec![10.0, 9.0, 8.5, -3.0];
        eigenvalues.extend(evenly_spaced(296, -0.5, 2.0));
        let previous = with_spectrum(&eigenvalues, 31);
        let step = with_spectrum(&evenly_spaced(300, -0.05, 0.05), 32).matrix;
        let entries = (0..300 * 300)
            .map(|ij| previous.matrix.get(ij / 300, ij % 300) + step.get(ij / 300, ij % 300));
        let mut current = DenseSymmetric::new(300, entries.collect()).unwrap();

        // Independent reference: faer's dense eigensolver on H + E.
        let dense = faer::Mat::from_fn(300, 300, |i, j| current.get(i, j));
        let exact = dense.self_adjoint_eigenvalues(faer::Side::Lower).unwrap()[299];

        let warm_opts = LanczosOptions {
            start: Some(previous.eigenvectors[0].clone()),
            ..options(1, 1e-3, 300)
        };
        let warm = lanczos(&mut current, &warm_opts).unwrap();
        let cold = lanczos(&mut current, &options(1, 1e-3, 300)).unwrap();
        assert!(
            warm.converged && warm.products <= 8,
            "{} products",
            warm.products
        );
        assert!(
            warm.products < cold.products,
            "warm {} cold {}",
            warm.products,
            cold.products
        );
        assert!(
            (warm.values[0] - exact).abs() < 1e-3 * exact,
            "{} vs {exact}",
            warm.values[0]
        );
    }

    #[test]
    fn warm_start_is_the_first_lanczos_vector() {
        // Start exactly at an eigenvector: one product, residual 0, that eigenvalue, even
        // though it is not the top one (the documented Krylov limitation).
        let mut known = with_spectrum(&[3.0, 2.0, 1.0, 0.0], 16);
        let opts = LanczosOptions {
            start: Some(known.eigenvectors[1].clone()),
            ..options(1, 1e-8, 10)
        };
        let result = lanczos(&mut known.matrix, &opts).unwrap();
        assert_eq!(result.products, 1);
        assert!((result.values[0] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn a_minimum_of_products_finds_the_eigenvalue_that_overtook_the_warm_start() {
        // The warm start is the eigenvector of 2, with a trace of the top one's direction, as
        // after an eigenvalue crossing; without a minimum the test passes after one product.
        let mut known = with_spectrum(&[3.0, 2.0, 1.0, 0.0], 16);
        let start: Vec<f64> = known.eigenvectors[1]
            .iter()
            .zip(&known.eigenvectors[0])
            .map(|(second, top)| second + 1e-4 * top)
            .collect();
        let loose = LanczosOptions {
            start: Some(start),
            ..options(1, 1e-3, 10)
        };
        let once = lanczos(&mut known.matrix, &loose).unwrap();
        assert_eq!(once.products, 1);
        assert!((once.values[0] - 2.0).abs() < 1e-6);
        let guarded = LanczosOptions {
            min_products: 3,
            ..loose
        };
        let result = lanczos(&mut known.matrix, &guarded).unwrap();
        assert!(result.products >= 3 && result.converged);
        assert!(
            (result.values[0] - 3.0).abs() < 1e-10,
            "{:?}",
            result.values
        );
    }

    #[test]
    fn invariant_subspace_stops_with_exact_values() {
        let mut diagonal = DenseSymmetric::diagonal(&[5.0, 4.0, 3.0, 2.0, 1.0]);
        let opts = LanczosOptions {
            start: Some(vec![1.0, 1.0, 0.0, 0.0, 0.0]),
            ..options(1, 1e-8, 10)
        };
        let result = lanczos(&mut diagonal, &opts).unwrap();
        assert_eq!(result.products, 2);
        assert!(result.converged && result.residuals[0] == 0.0);
        assert!((result.values[0] - 5.0).abs() < 1e-14);
    }

    #[test]
    fn invariant_subspace_below_k_restarts_to_find_k_values() {
        // Start at the eigenvector of 1.0: the first vector spans an invariant subspace.
        let mut diagonal = DenseSymmetric::diagonal(&[3.0, 2.0, 1.0]);
        let opts = LanczosOptions {
            start: Some(vec![0.0, 0.0, 1.0]),
            ..options(2, 1e-10, 10)
        };
        let result = lanczos(&mut diagonal, &opts).unwrap();
        assert!(result.converged);
        assert_eq!(result.products, 3);
        assert!((result.values[0] - 3.0).abs() < 1e-12 && (result.values[1] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn zero_operator_and_small_dimensions_are_exact() {
        let mut zero = DenseSymmetric::diagonal(&[0.0; 6]);
        let result = lanczos(&mut zero, &options(3, 1e-8, 20)).unwrap();
        assert_eq!(
            (result.values, result.products, result.converged),
            (vec![0.0; 3], 3, true)
        );

        let mut scalar = DenseSymmetric::new(1, vec![-7.0]).unwrap();
        let result = lanczos(&mut scalar, &options(2, 1e-8, 20)).unwrap();
        assert_eq!(
            (result.values, result.products, result.converged),
            (vec![-7.0], 1, true)
        );

        let result = lanczos(&mut DenseSymmetric::diagonal(&[]), &options(1, 1e-8, 5)).unwrap();
        assert!(result.values.is_empty() && result.converged && result.products == 0);

        // k above the dimension: all eigenvalues, exact after n products.
        let mut known = with_spectrum(&[2.0, -1.0, 0.5], 17);
        let result = lanczos(&mut known.matrix, &options(5, 1e-8, 20)).unwrap();
        assert_eq!(result.products, 3);
        for (value, exact) in result.values.iter().zip([2.0, 0.5, -1.0]) {
            assert!((value - exact).abs() < 1e-12);
        }
    }

    #[test]
    fn products_reported_equal_calls_made_and_cap_holds() {
        let mut known = with_spectrum(&evenly_spaced(50, 0.0, 1.0), 18);
        let mut calls = 0;
        let mut op = FnOperator::new(50, |v: &[f64], out: &mut [f64]| {
            calls += 1;
            known.matrix.apply(v, out).unwrap();
        });
        // Evenly spaced eigenvalues converge slowly: 7 products cannot reach 1e-12.
        let result = lanczos(&mut op, &options(2, 1e-12, 7)).unwrap();
        assert_eq!((result.products, result.converged), (7, false));
        assert_eq!(calls, 7);
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let mut matrix = DenseSymmetric::diagonal(&[1.0, 2.0]);
        let wrong = LanczosOptions {
            start: Some(vec![1.0; 3]),
            ..options(1, 1e-8, 5)
        };
        assert!(matches!(
            lanczos(&mut matrix, &wrong),
            Err(SpectrumError::StartLength { .. })
        ));
        let zero = LanczosOptions {
            start: Some(vec![0.0; 2]),
            ..options(1, 1e-8, 5)
        };
        assert!(matches!(
            lanczos(&mut matrix, &zero),
            Err(SpectrumError::DegenerateStart)
        ));
        assert!(matches!(
            lanczos(&mut matrix, &options(0, 1e-8, 5)),
            Err(SpectrumError::InvalidOption { name: "k", .. })
        ));
        let mut nan = FnOperator::new(2, |_: &[f64], out: &mut [f64]| out.fill(f64::INFINITY));
        assert!(matches!(
            lanczos(&mut nan, &options(1, 1e-8, 5)),
            Err(SpectrumError::NonFiniteProduct { product: 1, .. })
        ));
    }
}
