//! Power iteration for the largest algebraic eigenvalue λ_max of a symmetric operator H.
//!
//! Notation: v is the unit iterate, θ = ⟨v, Hv⟩ its Rayleigh quotient, r = ‖Hv − θv‖ its
//! residual, and the relative residual r/|θ| is what `tol` bounds. Plain power iteration
//! converges to the eigenvalue of largest *magnitude*, which is λ_min when the most negative
//! eigenvalue dominates (early in training, or for saddle points). With [`Shift::Auto`] this
//! module returns λ_max anyway, in up to two phases:
//!
//! 1. iterate on H. If this converges to θ ≥ 0, θ is dominant and positive, hence λ_max:
//!    done, at the cost of plain power iteration.
//! 2. if it converged to θ < 0, then θ ≈ λ_min ≤ every eigenvalue; iterate again from the
//!    start vector on H − θI, whose eigenvalues λ − θ are all ≥ 0, so its dominant one is
//!    λ_max − θ. This phase converges at rate (λ₂ − λ_min)/(λ_max − λ_min) per product, so a
//!    negative-dominant spectrum costs phase 1 plus this slower phase 2.
//!
//! If phase 1 has not converged after half the product cap (typically a pair ±ρ of equal
//! magnitude, between which the iterate oscillates), the shift becomes −‖Hv‖, a lower
//! estimate of −ρ, and phase 2 continues from the current iterate with the other half.
//!
//! # Limitations
//!
//! A small residual certifies an eigenpair, not that it is the largest: a start vector
//! (nearly) orthogonal to the top eigenvector converges to another eigenvalue. Power
//! iteration needs many products when the top two eigenvalues are close; prefer
//! [`crate::lanczos()`], which needs far fewer. A top eigenvalue of exactly 0 with an inexact
//! vector never meets the relative test, so the cap applies.

use tracing::debug;

use crate::error::SpectrumError;
use crate::operator::{CountedOperator, SymmetricOperator};
use crate::shifted_iteration::{Iterate, Phase};
use crate::vector::{check_max_products, check_tolerance, seeded_rng, start_vector};

/// Which eigenvalue power iteration converges to.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Shift {
    /// The largest algebraic eigenvalue λ_max, shifting automatically when the most negative
    /// eigenvalue dominates (see the module documentation).
    #[default]
    Auto,
    /// Plain power iteration on H: the eigenvalue of largest magnitude, of either sign.
    None,
    /// Iterate on H − μI: the eigenvalue farthest from μ; λ_max whenever μ ≤ λ_min
    /// (more precisely μ < (λ_max + λ_min)/2). The reported value is for H itself.
    Fixed(f64),
}

/// Options of [`power_iteration`].
#[derive(Debug, Clone, PartialEq)]
pub struct PowerOptions {
    /// Stop once the relative residual ‖Hv − θv‖/|θ| is below this.
    pub tol: f64,
    /// At most this many products v ↦ Hv, over all phases.
    pub max_products: usize,
    /// Warm start, e.g. the previous top eigenvector; `None` draws a random one from `seed`.
    pub start: Option<Vec<f64>>,
    /// Seed of the random start vector.
    pub seed: u64,
    /// Which eigenvalue to converge to.
    pub shift: Shift,
}

impl Default for PowerOptions {
    fn default() -> Self {
        Self {
            tol: 1e-6,
            max_products: 1000,
            start: None,
            seed: 0,
            shift: Shift::Auto,
        }
    }
}

/// One eigenvalue estimate with its unit vector.
#[derive(Debug, Clone, PartialEq)]
pub struct EigenEstimate {
    /// Rayleigh quotient θ = ⟨v, Hv⟩.
    pub value: f64,
    /// Unit vector v, of the operator's dimension.
    pub vector: Vec<f64>,
    /// Relative residual ‖Hv − θv‖/|θ| (0 for an exact eigenpair, even of eigenvalue 0).
    pub residual: f64,
    /// Products v ↦ Hv made, over all phases.
    pub products: usize,
    /// Whether `residual < tol` was reached within the cap.
    pub converged: bool,
}

/// Most phases [`Shift::Auto`] runs: the two of the module documentation, plus one spare
/// for a shift that rounding left on the wrong side.
const MAX_PHASES: usize = 3;

/// Estimates the top eigenpair of `op` by power iteration (see the module documentation).
///
/// Errors on an invalid option, a dimension-0 operator, a start vector of the wrong length
/// or zero, and a failed or non-finite product.
pub fn power_iteration(
    op: &mut dyn SymmetricOperator,
    opts: &PowerOptions,
) -> Result<EigenEstimate, SpectrumError> {
    check_tolerance(opts.tol)?;
    check_max_products(opts.max_products)?;
    let dim = op.dim();
    if dim == 0 {
        return Err(SpectrumError::EmptyOperator);
    }
    let start = start_vector(opts.start.as_deref(), dim, &mut seeded_rng(opts.seed))?;

    let mut op = CountedOperator::new(op);
    let mut iterate = Iterate {
        vector: start.clone(),
        product: vec![0.0; dim],
    };
    let phase = match opts.shift {
        Shift::None => iterate.run(&mut op, 0.0, opts.tol, opts.max_products)?,
        Shift::Fixed(shift) if !shift.is_finite() => {
            return Err(SpectrumError::InvalidOption {
                name: "shift",
                reason: format!("Shift::Fixed({shift}) is not finite"),
            });
        }
        Shift::Fixed(shift) => iterate.run(&mut op, shift, opts.tol, opts.max_products)?,
        Shift::Auto => largest_algebraic(&mut op, &mut iterate, &start, opts)?,
    };

    Ok(EigenEstimate {
        value: phase.value,
        vector: iterate.vector,
        residual: phase.residual,
        products: op.products,
        converged: phase.converged,
    })
}

/// The phases of [`Shift::Auto`]: plain iteration, then iteration on H − μI if needed.
fn largest_algebraic(
    op: &mut CountedOperator,
    iterate: &mut Iterate,
    start: &[f64],
    opts: &PowerOptions,
) -> Result<Phase, SpectrumError> {
    let mut shift = 0.0;
    let mut budget = opts.max_products.div_ceil(2);
    let mut phase = iterate.run(op, shift, opts.tol, budget)?;

    for _ in 1..MAX_PHASES {
        let remaining = opts.max_products - op.products;
        // In dimension 1 the only eigenvalue is the top one.
        let found_top = phase.converged && (phase.value >= shift || op.dim() == 1);
        if found_top || remaining == 0 {
            break;
        }
        if phase.converged {
            // θ is the eigenvalue farthest from the shift and lies below it: θ ≈ λ_min.
            shift = phase.value;
            iterate.vector.copy_from_slice(start);
        } else {
            // Stalled, e.g. on a ±ρ pair: shift below the spectrum by the norm estimate.
            shift = shift.min(-phase.spectral_radius);
        }
        debug!(
            shift,
            products = op.products,
            "power iteration: shifting to reach λ_max"
        );
        budget = remaining;
        phase = iterate.run(op, shift, opts.tol, budget)?;
    }
    Ok(phase)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_matrices::{evenly_spaced, residual_norm, with_spectrum};
    use crate::vector::dot;
    use crate::{DenseSymmetric, FnOperator, OperatorError};

    fn options(tol: f64, max_products: usize) -> PowerOptions {
        PowerOptions {
            tol,
            max_products,
            ..PowerOptions::default()
        }
    }

    #[test]
    fn negative_dominant_spectrum_gives_largest_algebraic_not_largest_magnitude() {
        // Phase 2 converges at rate (2.9 + 10)/(3 + 10) ≈ 0.992 per product: ~2000 products.
        let mut eigenvalues = vec![-10.0, 3.0, 2.9];
        eigenvalues.extend(evenly_spaced(27, -1.0, 1.0));
        let mut known = with_spectrum(&eigenvalues, 1);

        let estimate = power_iteration(&mut known.matrix, &options(1e-7, 6000)).unwrap();
        assert!(estimate.converged);
        assert!(
            (estimate.value - 3.0).abs() < 1e-9,
            "got {}",
            estimate.value
        );
        let overlap = dot(&estimate.vector, &known.eigenvectors[1]).abs();
        assert!((overlap - 1.0).abs() < 1e-9);
        let residual = residual_norm(&known.matrix, estimate.value, &estimate.vector);
        assert!((residual / 3.0 - estimate.residual).abs() < 1e-12);
    }

    #[test]
    fn no_shift_gives_largest_magnitude() {
        let mut known = with_spectrum(&[-10.0, 3.0, 2.0, 1.0, 0.5], 2);
        let opts = PowerOptions {
            shift: Shift::None,
            ..options(1e-8, 500)
        };
        let estimate = power_iteration(&mut known.matrix, &opts).unwrap();
        assert!((estimate.value + 10.0).abs() < 1e-9);
    }

    #[test]
    fn equal_magnitude_pair_resolves_to_the_positive_one() {
        // ±5 dominate equally: plain iteration oscillates, so the stall path must shift.
        let mut eigenvalues = vec![5.0, -5.0];
        eigenvalues.extend(evenly_spaced(18, -1.0, 1.0));
        let mut known = with_spectrum(&eigenvalues, 3);
        let estimate = power_iteration(&mut known.matrix, &options(1e-8, 400)).unwrap();
        assert!(estimate.converged);
        assert!(
            (estimate.value - 5.0).abs() < 1e-9,
            "got {}",
            estimate.value
        );
    }

    #[test]
    fn fixed_shift_below_spectrum_gives_largest_algebraic() {
        let mut known = with_spectrum(&[-10.0, 3.0, 2.0, 1.0], 4);
        let opts = PowerOptions {
            shift: Shift::Fixed(-10.0),
            ..options(1e-8, 2000)
        };
        let estimate = power_iteration(&mut known.matrix, &opts).unwrap();
        assert!((estimate.value - 3.0).abs() < 1e-9);
    }

    #[test]
    fn products_reported_equal_calls_made() {
        let known = with_spectrum(&[4.0, 1.0, 0.5, -2.0], 5);
        let mut calls = 0;
        let mut matrix = known.matrix.clone();
        let mut op = FnOperator::new(4, |v: &[f64], out: &mut [f64]| {
            calls += 1;
            matrix.apply(v, out).unwrap();
        });
        let estimate = power_iteration(&mut op, &options(1e-10, 1000)).unwrap();
        assert!((estimate.value - 4.0).abs() < 1e-12);
        assert_eq!(estimate.products, calls);

        // Convergence rate 2/4 per product on the residual: about log2(1e10) ≈ 33 products.
        assert!(
            (20..60).contains(&estimate.products),
            "{}",
            estimate.products
        );
    }

    #[test]
    fn warm_start_at_an_eigenvector_stops_after_one_product() {
        let mut known = with_spectrum(&[4.0, 1.0, 0.5, -2.0], 6);
        let opts = PowerOptions {
            start: Some(known.eigenvectors[0].clone()),
            ..options(1e-8, 50)
        };
        let estimate = power_iteration(&mut known.matrix, &opts).unwrap();
        assert_eq!(estimate.products, 1);
        assert!((estimate.value - 4.0).abs() < 1e-12);
    }

    #[test]
    fn product_cap_is_respected_and_reported_unconverged() {
        // Top pair 1.0 / 0.999: far more than 10 products are needed.
        let mut known = with_spectrum(&[1.0, 0.999, 0.5, 0.1], 7);
        let estimate = power_iteration(&mut known.matrix, &options(1e-10, 10)).unwrap();
        assert_eq!(estimate.products, 10);
        assert!(!estimate.converged);
    }

    #[test]
    fn dimension_one_and_zero_operator_are_exact() {
        let mut scalar = DenseSymmetric::new(1, vec![-2.5]).unwrap();
        let estimate = power_iteration(&mut scalar, &options(1e-8, 10)).unwrap();
        assert_eq!(
            (estimate.value, estimate.products, estimate.converged),
            (-2.5, 1, true)
        );

        let mut zero = DenseSymmetric::diagonal(&[0.0; 5]);
        let estimate = power_iteration(&mut zero, &options(1e-8, 10)).unwrap();
        assert_eq!(
            (estimate.value, estimate.residual, estimate.converged),
            (0.0, 0.0, true)
        );
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let mut matrix = DenseSymmetric::diagonal(&[1.0, 2.0]);
        let wrong_length = PowerOptions {
            start: Some(vec![1.0]),
            ..options(1e-8, 10)
        };
        assert!(matches!(
            power_iteration(&mut matrix, &wrong_length),
            Err(SpectrumError::StartLength {
                expected: 2,
                found: 1
            })
        ));
        let zero_start = PowerOptions {
            start: Some(vec![0.0, 0.0]),
            ..options(1e-8, 10)
        };
        assert!(matches!(
            power_iteration(&mut matrix, &zero_start),
            Err(SpectrumError::DegenerateStart)
        ));
        assert!(matches!(
            power_iteration(&mut matrix, &options(0.0, 10)),
            Err(SpectrumError::InvalidOption { name: "tol", .. })
        ));
        assert!(matches!(
            power_iteration(&mut DenseSymmetric::diagonal(&[]), &options(1e-8, 10)),
            Err(SpectrumError::EmptyOperator)
        ));
    }

    #[test]
    fn operator_nan_and_failure_are_errors() {
        let mut nan = FnOperator::new(3, |_: &[f64], out: &mut [f64]| out.fill(f64::NAN));
        assert!(matches!(
            power_iteration(&mut nan, &options(1e-8, 10)),
            Err(SpectrumError::NonFiniteProduct {
                product: 1,
                index: 0
            })
        ));

        struct Failing;
        impl SymmetricOperator for Failing {
            fn dim(&self) -> usize {
                2
            }
            fn apply(&mut self, _: &[f64], _: &mut [f64]) -> Result<(), OperatorError> {
                Err(OperatorError::new("backend lost"))
            }
        }
        let error = power_iteration(&mut Failing, &options(1e-8, 10)).unwrap_err();
        assert!(error.to_string().contains("backend lost"), "{error}");
    }
}
