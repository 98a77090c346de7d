//! Hutchinson's estimator of the trace of H with Rademacher probes.
//!
//! Notation: probes z ∈ {−1, +1}ⁿ with independent fair signs satisfy 𝔼(zᵀHz) = tr H, with
//! variance 2(‖H‖²_F − Σ_i H_ii²) per probe. With S probes the estimate is the sample mean of
//! zᵀHz and its standard error is the sample standard deviation over √S.
//!
//! # Limitations
//!
//! The standard error is itself estimated from the S samples, so it is unreliable for small S,
//! and undefined for S = 1 (reported as infinity). One product per probe; no variance
//! reduction (e.g. Hutch++), which would need a low-rank sketch.

use rand::Rng;

use crate::error::SpectrumError;
use crate::operator::{CountedOperator, SymmetricOperator};
use crate::vector::{dot, seeded_rng};

/// A Monte-Carlo estimate of tr H.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceEstimate {
    /// Sample mean of zᵀHz over the probes.
    pub mean: f64,
    /// Estimated standard error of `mean` (sample standard deviation / √samples).
    pub std_error: f64,
    /// Products v ↦ Hv made (one per probe).
    pub products: usize,
}

/// Estimates tr H from `samples` Rademacher probes drawn from `seed`.
///
/// A dimension-0 operator has trace 0 exactly (no products). Errors if `samples` is 0, or on
/// a failed or non-finite product.
pub fn hutchinson_trace(
    op: &mut dyn SymmetricOperator,
    samples: usize,
    seed: u64,
) -> Result<TraceEstimate, SpectrumError> {
    if samples == 0 {
        return Err(SpectrumError::InvalidOption {
            name: "samples",
            reason: "must be at least 1 (try 100, and read std_error)".to_string(),
        });
    }
    let dim = op.dim();
    if dim == 0 {
        return Ok(TraceEstimate {
            mean: 0.0,
            std_error: 0.0,
            products: 0,
        });
    }

    let mut rng = seeded_rng(seed);
    let mut op = CountedOperator::new(op);
    let (mut probe, mut product) = (vec![0.0; dim], vec![0.0; dim]);
    let mut quadratic_forms = Vec::with_capacity(samples);
    for _ in 0..samples {
        probe
            .iter_mut()
            .for_each(|z| *z = if rng.random::<bool>() { 1.0 } else { -1.0 });
        op.apply(&probe, &mut product)?;
        quadratic_forms.push(dot(&probe, &product));
    }

    let (mean, std_error) = mean_and_standard_error(&quadratic_forms);
    Ok(TraceEstimate {
        mean,
        std_error,
        products: op.products,
    })
}

/// Sample mean and its standard error s/√S (infinite for a single sample).
fn mean_and_standard_error(samples: &[f64]) -> (f64, f64) {
    let count = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / count;
    if samples.len() < 2 {
        return (mean, f64::INFINITY);
    }
    let variance = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (count - 1.0);
    (mean, (variance / count).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DenseSymmetric;
    use crate::test_matrices::{evenly_spaced, with_spectrum};

    #[test]
    fn estimate_is_within_its_standard_error_of_the_exact_trace() {
        let eigenvalues = evenly_spaced(40, -1.0, 3.0);
        let exact_trace: f64 = eigenvalues.iter().sum();
        let mut known = with_spectrum(&eigenvalues, 21);
        let estimate = hutchinson_trace(&mut known.matrix, 400, 5).unwrap();
        assert_eq!(estimate.products, 400);
        assert!(
            (estimate.mean - exact_trace).abs() < 4.0 * estimate.std_error,
            "{estimate:?} vs {exact_trace}"
        );

        // The standard error matches the closed-form variance 2(‖H‖²_F − Σ H_ii²) per probe.
        let frobenius_squared: f64 = eigenvalues.iter().map(|x| x * x).sum();
        let diagonal_squared: f64 = (0..40).map(|i| known.matrix.get(i, i).powi(2)).sum();
        let predicted = (2.0 * (frobenius_squared - diagonal_squared) / 400.0).sqrt();
        assert!(
            (estimate.std_error / predicted - 1.0).abs() < 0.2,
            "{estimate:?} {predicted}"
        );
    }

    #[test]
    fn diagonal_operator_trace_is_exact_for_every_probe() {
        // zᵀDz = Σ D_ii z_i² = tr D when z_i = ±1.
        let mut diagonal = DenseSymmetric::diagonal(&[1.5, -2.0, 4.0, 0.25]);
        let estimate = hutchinson_trace(&mut diagonal, 10, 3).unwrap();
        assert_eq!((estimate.mean, estimate.std_error), (3.75, 0.0));
    }

    #[test]
    fn seed_determines_the_estimate() {
        let mut known = with_spectrum(&evenly_spaced(10, 0.0, 1.0), 22);
        let first = hutchinson_trace(&mut known.matrix, 5, 1).unwrap();
        let again = hutchinson_trace(&mut known.matrix, 5, 1).unwrap();
        let other = hutchinson_trace(&mut known.matrix, 5, 2).unwrap();
        assert_eq!(first, again);
        assert_ne!(first.mean, other.mean);
    }

    #[test]
    fn degenerate_inputs() {
        let mut matrix = DenseSymmetric::diagonal(&[1.0]);
        assert!(matches!(
            hutchinson_trace(&mut matrix, 0, 0),
            Err(SpectrumError::InvalidOption {
                name: "samples",
                ..
            })
        ));
        let single = hutchinson_trace(&mut matrix, 1, 0).unwrap();
        assert_eq!((single.mean, single.std_error), (1.0, f64::INFINITY));
        let empty = hutchinson_trace(&mut DenseSymmetric::diagonal(&[]), 3, 0).unwrap();
        assert_eq!((empty.mean, empty.products), (0.0, 0));
    }
}
