//! Small dense-vector helpers shared by the solvers: dot products, norms, start vectors.
//!
//! Vectors are `&[f64]` of the operator's dimension n; nothing here allocates except
//! [`start_vector`].
//!
//! # Limitations
//!
//! Plain loops without blocking or SIMD: fast enough next to a Hessian-vector product.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::SpectrumError;

/// ⟨a, b⟩.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// ‖a‖₂.
pub(crate) fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// y ← y + alpha · x.
pub(crate) fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (y_i, x_i) in y.iter_mut().zip(x) {
        *y_i += alpha * x_i;
    }
}

/// x ← x / ‖x‖ when ‖x‖ > 0; returns the norm before scaling.
pub(crate) fn normalize(x: &mut [f64]) -> f64 {
    let length = norm(x);
    if length > 0.0 {
        x.iter_mut().for_each(|x_i| *x_i /= length);
    }
    length
}

/// A random vector with independent components uniform in [−1, 1], from `rng`.
pub(crate) fn random_vector(rng: &mut ChaCha8Rng, dim: usize) -> Vec<f64> {
    (0..dim).map(|_| rng.random_range(-1.0..=1.0)).collect()
}

/// The seeded random-number generator used for start vectors and probes.
pub(crate) fn seeded_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// The unit start vector: the caller's `start` normalised, or a seeded random one.
///
/// Errors if `start` has the wrong length, is zero, or is not finite.
pub(crate) fn start_vector(
    start: Option<&[f64]>,
    dim: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<f64>, SpectrumError> {
    let mut vector = match start {
        Some(given) if given.len() != dim => {
            return Err(SpectrumError::StartLength {
                expected: dim,
                found: given.len(),
            });
        }
        Some(given) => given.to_vec(),
        None => random_vector(rng, dim),
    };
    let length = normalize(&mut vector);
    if !(length.is_finite() && length > 0.0) {
        return Err(SpectrumError::DegenerateStart);
    }
    Ok(vector)
}

/// ‖r‖ / |θ|, with 0/0 = 0 (an exact eigenpair of eigenvalue 0) and r/0 = ∞.
pub(crate) fn relative(residual_norm: f64, value: f64) -> f64 {
    if residual_norm == 0.0 {
        0.0
    } else {
        residual_norm / value.abs()
    }
}

/// Checks that a tolerance is a finite positive number.
pub(crate) fn check_tolerance(tol: f64) -> Result<(), SpectrumError> {
    if tol.is_finite() && tol > 0.0 {
        Ok(())
    } else {
        Err(SpectrumError::InvalidOption {
            name: "tol",
            reason: format!("{tol} is not a finite positive number; use e.g. 1e-6"),
        })
    }
}

/// Checks that a product cap allows at least one product.
pub(crate) fn check_max_products(max_products: usize) -> Result<(), SpectrumError> {
    if max_products == 0 {
        return Err(SpectrumError::InvalidOption {
            name: "max_products",
            reason: "must be at least 1".to_string(),
        });
    }
    Ok(())
}
