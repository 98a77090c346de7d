//! One phase of power iteration on the shifted operator H − μI.
//!
//! Notation as in [`crate::power_iteration`]: v is the unit iterate, θ = ⟨v, Hv⟩, and the
//! relative residual ‖Hv − θv‖/|θ| decides convergence. The shift μ only changes the next
//! iterate, (H − μI)v/‖·‖, never the reported θ or residual, which are always those of H.
//!
//! # Limitations
//!
//! Converges at rate max_{i≥2} |λ_i − μ| / |λ_1 − μ| per product, where λ_1 is the eigenvalue
//! farthest from μ: slow when that ratio is near 1.

use crate::error::SpectrumError;
use crate::operator::CountedOperator;
use crate::vector::{axpy, dot, norm, normalize, relative};

/// Summary of one phase of power iteration, for its final iterate v.
pub(crate) struct Phase {
    /// θ = ⟨v, Hv⟩.
    pub(crate) value: f64,
    /// ‖Hv − θv‖/|θ|.
    pub(crate) residual: f64,
    /// ‖Hv‖, a lower bound on the spectral radius max |λ|.
    pub(crate) spectral_radius: f64,
    pub(crate) converged: bool,
}

/// The two n-vectors power iteration needs, reused across steps and phases.
pub(crate) struct Iterate {
    /// Unit iterate v.
    pub(crate) vector: Vec<f64>,
    /// Hv, then the next (unnormalised) iterate (H − μI)v.
    pub(crate) product: Vec<f64>,
}

impl Iterate {
    /// Iterates v ← (H − μI)v/‖·‖ for at most `budget` products, stopping at relative residual
    /// below `tol`. On return `self.vector` is the iterate the summary describes.
    pub(crate) fn run(
        &mut self,
        op: &mut CountedOperator,
        shift: f64,
        tol: f64,
        budget: usize,
    ) -> Result<Phase, SpectrumError> {
        let mut phase = Phase {
            value: f64::NAN,
            residual: f64::INFINITY,
            spectral_radius: 0.0,
            converged: false,
        };
        for step in 1..=budget {
            op.apply(&self.vector, &mut self.product)?;
            phase = self.summarise(tol);
            if phase.converged || step == budget {
                break;
            }

            // (H − μI)v, normalised, becomes the next iterate.
            axpy(-shift, &self.vector, &mut self.product);
            let length = normalize(&mut self.product);
            if !(length > 0.0 && length.is_finite()) {
                // Only rounding gets here: (H − μI)v = 0 means θ = μ with zero residual.
                break;
            }
            std::mem::swap(&mut self.vector, &mut self.product);
        }
        Ok(phase)
    }

    /// Rayleigh quotient, residual and norm of the product just computed.
    fn summarise(&self, tol: f64) -> Phase {
        let value = dot(&self.vector, &self.product);
        let residual_norm = self
            .product
            .iter()
            .zip(&self.vector)
            .map(|(hv, v)| (hv - value * v).powi(2))
            .sum::<f64>()
            .sqrt();
        let residual = relative(residual_norm, value);
        Phase {
            value,
            residual,
            spectral_radius: norm(&self.product),
            converged: residual < tol,
        }
    }
}
