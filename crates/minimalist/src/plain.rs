//! The plain O(N·d) minimalist model on the full data matrix: loss, gradient, Hessian-vector
//! product and dense Hessian, straight from the formulas in THEORY.md. It is the test oracle
//! for the reduced, O(r·D) implementation, and handy for small problems.
//!
//! Notation: X [N, d] row-major, z = Xu, f = P·z, r = f − y, L = (1/2N)‖r‖²; a direction is
//! (a ∈ ℝᵈ, b ∈ ℝ^{D−1}) and s = Σᵢ P₋ᵢbᵢ.
//!
//! # Limitations
//!
//! Every call costs O(N·d); the dense Hessian costs d + D − 1 such calls and (d + D − 1)² memory,
//! so it is meant for small d only.

use crate::model::products;

/// The minimalist model on an explicit data matrix, for reference computations.
#[derive(Debug, Clone, Copy)]
pub struct PlainModel<'a> {
    x: &'a [f64], // [n, d]
    y: &'a [f64], // [n]
    n: usize,
    d: usize,
}

/// A full-coordinate gradient: ∇ᵤL (length d) and ∂L/∂v (length D − 1).
#[derive(Debug, Clone, PartialEq)]
pub struct PlainGradient {
    pub u: Vec<f64>,
    pub v: Vec<f64>,
}

impl<'a> PlainModel<'a> {
    /// Wraps X (`x`, [n, d] row-major) and y (length n). Panics on mismatched lengths: this is
    /// a test oracle, the validated entry point is [`crate::Reduced::new`].
    pub fn new(x: &'a [f64], n: usize, d: usize, y: &'a [f64]) -> Self {
        assert_eq!(x.len(), n * d, "X must be [n, d]");
        assert_eq!(y.len(), n, "y must have n entries");
        PlainModel { x, y, n, d }
    }

    fn times(&self, u: &[f64]) -> Vec<f64> {
        (0..self.n)
            .map(|i| {
                self.x[i * self.d..(i + 1) * self.d]
                    .iter()
                    .zip(u)
                    .map(|(a, b)| a * b)
                    .sum()
            })
            .collect() // [n]
    }

    fn transpose_times(&self, w: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.d]; // [d]
        for (i, &wi) in w.iter().enumerate() {
            for (o, &xij) in out.iter_mut().zip(&self.x[i * self.d..(i + 1) * self.d]) {
                *o += xij * wi;
            }
        }
        out
    }

    fn residual(&self, z: &[f64], product: f64) -> Vec<f64> {
        z.iter()
            .zip(self.y)
            .map(|(zi, yi)| product * zi - yi)
            .collect()
    }

    /// L(u, v) = (1/2N)‖P·Xu − y‖².
    pub fn loss(&self, u: &[f64], v: &[f64]) -> f64 {
        let (product, _) = products(v);
        let residual = self.residual(&self.times(u), product);
        residual.iter().map(|r| r * r).sum::<f64>() / (2.0 * self.n as f64)
    }

    /// ∇ᵤL = (P/N)Xᵀr and ∂L/∂vᵢ = (P₋ᵢ/N)zᵀr.
    pub fn gradient(&self, u: &[f64], v: &[f64]) -> PlainGradient {
        let inv_n = 1.0 / self.n as f64;
        let (product, loo) = products(v);
        let z = self.times(u);
        let residual = self.residual(&z, product);
        let z_dot_r: f64 = z.iter().zip(&residual).map(|(a, b)| a * b).sum();
        let grad_u = self
            .transpose_times(&residual)
            .into_iter()
            .map(|g| g * product * inv_n);
        PlainGradient {
            u: grad_u.collect(),
            v: loo.iter().map(|p| p * z_dot_r * inv_n).collect(),
        }
    }

    /// The Hessian-vector product ∇²L·(a, b), by the formulas of THEORY.md.
    pub fn hvp(&self, u: &[f64], v: &[f64], a: &[f64], b: &[f64]) -> PlainGradient {
        let inv_n = 1.0 / self.n as f64;
        let m = v.len();
        let (product, loo) = products(v);
        let z = self.times(u);
        let xa = self.times(a);
        let residual = self.residual(&z, product);
        let s: f64 = loo.iter().zip(b).map(|(p, bi)| p * bi).sum();
        let jw: Vec<f64> = xa
            .iter()
            .zip(&z)
            .map(|(xai, zi)| product * xai + s * zi)
            .collect();

        let xt_jw = self.transpose_times(&jw);
        let xt_r = self.transpose_times(&residual);
        let hu = xt_jw
            .iter()
            .zip(&xt_r)
            .map(|(p, q)| (product * p + s * q) * inv_n)
            .collect();

        let z_dot_jw: f64 = z.iter().zip(&jw).map(|(p, q)| p * q).sum();
        let r_dot_xa: f64 = residual.iter().zip(&xa).map(|(p, q)| p * q).sum();
        let z_dot_r: f64 = z.iter().zip(&residual).map(|(p, q)| p * q).sum();
        let hv = (0..m)
            .map(|i| {
                let cross: f64 = (0..m)
                    .filter(|&j| j != i)
                    .map(|j| {
                        let others: f64 =
                            (0..m).filter(|&k| k != i && k != j).map(|k| v[k]).product();
                        others * b[j]
                    })
                    .sum();
                (loo[i] * z_dot_jw + loo[i] * r_dot_xa + z_dot_r * cross) * inv_n
            })
            .collect();
        PlainGradient { u: hu, v: hv }
    }

    /// The dense Hessian, (d + D − 1)², row-major, ordered [u; v], built column by column
    /// from [`PlainModel::hvp`] on unit vectors.
    pub fn dense_hessian(&self, u: &[f64], v: &[f64]) -> Vec<f64> {
        let (d, m) = (self.d, v.len());
        let size = d + m;
        let mut dense = vec![0.0; size * size];
        for col in 0..size {
            let mut a = vec![0.0; d];
            let mut b = vec![0.0; m];
            if col < d {
                a[col] = 1.0;
            } else {
                b[col - d] = 1.0;
            }
            let product = self.hvp(u, v, &a, &b);
            for (row, value) in product.u.iter().chain(&product.v).enumerate() {
                dense[row * size + col] = *value;
            }
        }
        dense
    }
}
