//! Loss and gradient of the minimalist model in reduced coordinates (α = Wᵀu, v), generic over
//! the training precision; one full-batch gradient costs O(r + D), a mini-batch one O(B·r).
//!
//! Notation: P = v₁⋯v_{D−1}, P₋ₖ = ∏_{j≠k} vⱼ, ρᵢ = σᵢαᵢP − dᵢ (the residual in the left
//! singular basis), so L = (1/2N)(‖ρ‖² + ‖y⊥‖²), ∂L/∂αᵢ = (P/N)σᵢρᵢ and
//! ∂L/∂vₖ = (P₋ₖ/N)Σᵢσᵢαᵢρᵢ.
//!
//! # Limitations
//!
//! P₋ₖ is a plain product of the other factors, so a run whose v's under- or overflow (depth in
//! the hundreds) loses accuracy; the depths studied (D ≤ 10) are far from that.

use crate::reduced::Reduced;
use crate::scalar::{Scalar, convert};

/// P = ∏ vⱼ and the leave-one-out products P₋ₖ = ∏_{j≠k} vⱼ (no division, so zeros are fine).
pub fn products<T: Scalar>(v: &[T]) -> (T, Vec<T>) {
    let m = v.len();
    let mut prefix = vec![T::from_f64(1.0); m + 1];
    for k in 0..m {
        prefix[k + 1] = prefix[k] * v[k];
    }
    let mut leave_one_out = vec![T::from_f64(1.0); m];
    let mut suffix = T::from_f64(1.0);
    for k in (0..m).rev() {
        leave_one_out[k] = prefix[k] * suffix;
        suffix = suffix * v[k];
    }
    (prefix[m], leave_one_out)
}

/// Independent partial sums in the O(r) loops, so they are not one serial chain of adds.
const LANES: usize = 4;

fn total<T: Scalar>(sums: [T; LANES]) -> T {
    (sums[0] + sums[1]) + (sums[2] + sums[3])
}

/// The reduced data in the training precision.
#[derive(Debug, Clone)]
pub struct ReducedModel<T> {
    n: usize,
    sigma: Vec<T>,       // [r]
    target_coef: Vec<T>, // [r]
    residual_floor: T,
    e: Vec<T>, // [n, r]
    y: Vec<T>, // [n]
}

impl<T: Scalar> ReducedModel<T> {
    /// Converts a [`Reduced`] problem to precision `T`.
    pub fn new(reduced: &Reduced) -> Self {
        let n = reduced.n();
        let e = (0..n)
            .flat_map(|i| reduced.e_row(i).iter().copied())
            .collect::<Vec<_>>();
        ReducedModel {
            n,
            sigma: convert(reduced.sigma()),
            target_coef: convert(reduced.target_coef()),
            residual_floor: T::from_f64(reduced.residual_floor()),
            e: convert(&e),
            y: convert(reduced.y()),
        }
    }

    /// r, the number of α coordinates.
    pub fn rank(&self) -> usize {
        self.sigma.len()
    }

    /// The full-batch loss L(α, v).
    pub fn loss(&self, alpha: &[T], v: &[T]) -> T {
        let (product, _) = products(v);
        let mut sums = [T::zero(); LANES]; // independent partial sums: no serial add chain
        for (k, ((&s, &a), &c)) in self
            .sigma
            .iter()
            .zip(alpha)
            .zip(&self.target_coef)
            .enumerate()
        {
            let residual = s * a * product - c;
            sums[k % LANES] += residual * residual;
        }
        (self.residual_floor + total(sums)) / T::from_f64(2.0 * self.n as f64)
    }

    /// Writes the full-batch gradient into `grad_alpha` (length r) and `grad_v` (length D − 1)
    /// and returns the loss at (α, v).
    pub fn gradient(&self, alpha: &[T], v: &[T], grad_alpha: &mut [T], grad_v: &mut [T]) -> T {
        let (product, leave_one_out) = products(v);
        let inv_n = T::from_f64(1.0 / self.n as f64);
        let mut squared = [T::zero(); LANES];
        let mut fit_dot_residual = [T::zero(); LANES]; // zᵀρ with z = Σα
        for k in 0..self.sigma.len() {
            let z = self.sigma[k] * alpha[k];
            let residual = z * product - self.target_coef[k];
            squared[k % LANES] += residual * residual;
            fit_dot_residual[k % LANES] += z * residual;
            grad_alpha[k] = product * self.sigma[k] * residual * inv_n;
        }
        let (squared, fit_dot_residual) = (
            self.residual_floor + total(squared),
            total(fit_dot_residual),
        );
        for (g, &p) in grad_v.iter_mut().zip(&leave_one_out) {
            *g = p * fit_dot_residual * inv_n;
        }
        squared * inv_n / T::from_f64(2.0)
    }

    /// Writes the gradient of the mini-batch loss (1/2B)Σ_{i∈batch}(P xᵢᵀu − yᵢ)², using the
    /// rows of E: xᵢᵀu = Σₖ Eᵢₖσₖαₖ. Cost O(B·r).
    pub fn batch_gradient(
        &self,
        batch: &[usize],
        alpha: &[T],
        v: &[T],
        grad_alpha: &mut [T],
        grad_v: &mut [T],
    ) {
        let r = self.rank();
        let (product, leave_one_out) = products(v);
        let inv_b = T::from_f64(1.0 / batch.len() as f64);
        grad_alpha.iter_mut().for_each(|g| *g = T::zero());
        let mut fit_dot_residual = T::zero();
        for &i in batch {
            let row = &self.e[i * r..(i + 1) * r];
            let mut z = T::zero(); // xᵢᵀu
            for k in 0..r {
                z += row[k] * self.sigma[k] * alpha[k];
            }
            let residual = z * product - self.y[i];
            fit_dot_residual += z * residual;
            for k in 0..r {
                grad_alpha[k] += row[k] * residual;
            }
        }
        for (g, &sigma) in grad_alpha.iter_mut().zip(&self.sigma) {
            *g = *g * sigma * product * inv_b;
        }
        for (g, &p) in grad_v.iter_mut().zip(&leave_one_out) {
            *g = p * fit_dot_residual * inv_b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leave_one_out_products_match_direct_products_with_a_zero() {
        let v = [2.0, 0.0, -3.0, 0.5];
        let (product, loo) = products(&v);
        assert_eq!(product, 0.0);
        assert_eq!(loo.len(), v.len());
        for (k, &found) in loo.iter().enumerate() {
            let direct: f64 = v
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, x)| x)
                .product();
            assert_eq!(found, direct);
        }
    }
}
