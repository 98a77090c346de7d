//! The reduced problem: one thin SVD X = E Σ Wᵀ turns the minimalist model's loss into r
//! independent coordinates α = Wᵀu plus the D − 1 scalars v, so a training step and an exact
//! sharpness cost O(r·D) instead of O(N·d).
//!
//! Notation: N samples, d input dimension, r rank kept, σ₁ ≥ … ≥ σ_r the singular values,
//! eᵢ / wᵢ the left / right singular vectors, dᵢ = eᵢᵀy, y⊥ = y − E Eᵀy. In these coordinates
//! L = (1/2N)(‖Σα·P − d‖² + ‖y⊥‖²) (see THEORY.md).
//!
//! # Limitations
//!
//! Singular values at or below `cutoff · σ₁` are dropped: their directions are treated as
//! outside the row space W, so a step moves nothing along them (the plain model would move
//! them by an amount proportional to the dropped σ). The SVD is dense: memory is
//! O(N·d + d·r), about 50 MB for N = 1,000 CIFAR-10 images.

use faer::Mat;

use crate::error::MinimalError;

/// The default relative cut-off on singular values, σᵢ ≤ 1e-10·σ₁ are dropped.
pub const DEFAULT_CUTOFF: f64 = 1e-10;

/// A data set (X, y) after its thin SVD, ready for O(r·D) training.
#[derive(Debug, Clone)]
pub struct Reduced {
    n: usize,
    d: usize,
    cutoff: f64,
    sigma: Vec<f64>,         // [r], descending
    dropped_sigma: Vec<f64>, // singular values at or below cutoff·σ₁
    target_coef: Vec<f64>,   // [r], dᵢ = eᵢᵀy
    residual_floor: f64,     // ‖y⊥‖²
    e: Vec<f64>,             // [n, r] row-major: row i is sample i in the basis E
    w: Vec<f64>,             // [d, r] row-major: column k is wₖ
    y: Vec<f64>,             // [n]
}

impl Reduced {
    /// Factors X (`x`, shape [n, d] row-major) and projects the targets `y` (length n).
    /// Singular values σᵢ ≤ `cutoff`·σ₁ are dropped (the count is [`Reduced::dropped`]).
    ///
    /// Errors: wrong lengths, non-finite entries, `cutoff` outside [0, 1), X = 0, or an SVD
    /// that fails to converge.
    pub fn new(
        x: &[f64],
        n: usize,
        d: usize,
        y: &[f64],
        cutoff: f64,
    ) -> Result<Self, MinimalError> {
        check_inputs(x, n, d, y, cutoff)?;
        let matrix = Mat::<f64>::from_fn(n, d, |i, j| x[i * d + j]);
        let svd = matrix.thin_svd().map_err(|_| MinimalError::Svd { n, d })?;
        let singular: Vec<f64> = svd.S().column_vector().iter().copied().collect();
        let sigma1 = singular.first().copied().unwrap_or(0.0);
        if sigma1 <= 0.0 {
            return Err(MinimalError::ZeroData { sigma1 });
        }
        let rank = singular
            .iter()
            .take_while(|&&s| s > cutoff * sigma1)
            .count();
        let (left, right) = (svd.U(), svd.V());

        let mut e = vec![0.0; n * rank]; // [n, r]
        for i in 0..n {
            for k in 0..rank {
                e[i * rank + k] = left[(i, k)];
            }
        }
        let mut w = vec![0.0; d * rank]; // [d, r]
        for j in 0..d {
            for k in 0..rank {
                w[j * rank + k] = right[(j, k)];
            }
        }
        let mut target_coef = vec![0.0; rank];
        for (i, &yi) in y.iter().enumerate() {
            for k in 0..rank {
                target_coef[k] += e[i * rank + k] * yi;
            }
        }
        let residual_floor = (0..n)
            .map(|i| {
                let fit: f64 = (0..rank).map(|k| e[i * rank + k] * target_coef[k]).sum();
                (y[i] - fit).powi(2)
            })
            .sum();
        tracing::debug!(
            n,
            d,
            rank,
            dropped = singular.len() - rank,
            "reduced problem built"
        );
        Ok(Reduced {
            n,
            d,
            cutoff,
            sigma: singular[..rank].to_vec(),
            dropped_sigma: singular[rank..].to_vec(),
            target_coef,
            residual_floor,
            e,
            w,
            y: y.to_vec(),
        })
    }

    /// N, the number of samples.
    pub fn n(&self) -> usize {
        self.n
    }
    /// d, the input dimension.
    pub fn d(&self) -> usize {
        self.d
    }
    /// r, the number of singular values kept.
    pub fn rank(&self) -> usize {
        self.sigma.len()
    }
    /// The relative cut-off this problem was built with.
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }
    /// How many singular values were dropped by the cut-off (min(N, d) − r).
    pub fn dropped(&self) -> usize {
        self.dropped_sigma.len()
    }
    /// The largest dropped singular value, if any (0 when none was dropped).
    pub fn largest_dropped(&self) -> f64 {
        self.dropped_sigma.first().copied().unwrap_or(0.0)
    }
    /// σ₁ ≥ … ≥ σ_r, the kept singular values.
    pub fn sigma(&self) -> &[f64] {
        &self.sigma
    }
    /// dᵢ = eᵢᵀy, the targets in the left singular basis.
    pub fn target_coef(&self) -> &[f64] {
        &self.target_coef
    }
    /// ‖y⊥‖², the part of ‖y‖² no parameter can fit; the least loss is ‖y⊥‖²/(2N).
    pub fn residual_floor(&self) -> f64 {
        self.residual_floor
    }
    /// The least achievable loss, ‖y⊥‖²/(2N).
    pub fn min_loss(&self) -> f64 {
        self.residual_floor / (2.0 * self.n as f64)
    }
    /// The targets y.
    pub fn y(&self) -> &[f64] {
        &self.y
    }
    /// Row i of E, sample i in the left singular basis (length r).
    pub fn e_row(&self, i: usize) -> &[f64] {
        let r = self.rank();
        &self.e[i * r..(i + 1) * r]
    }

    /// Splits u (length d) into α = Wᵀu (length r) and the part outside W, u − Wα.
    ///
    /// Panics if `u.len() != d` (callers validate user input first).
    pub fn split(&self, u: &[f64]) -> (Vec<f64>, Vec<f64>) {
        assert_eq!(u.len(), self.d, "u must have length d");
        let r = self.rank();
        let mut alpha = vec![0.0; r];
        for (j, &uj) in u.iter().enumerate() {
            let row = &self.w[j * r..(j + 1) * r];
            for k in 0..r {
                alpha[k] += row[k] * uj;
            }
        }
        let inside = self.lift(&alpha);
        let outside = u.iter().zip(&inside).map(|(a, b)| a - b).collect();
        (alpha, outside)
    }

    /// W α, the vector of ℝᵈ with coordinates α in the row space (length d).
    pub fn lift(&self, alpha: &[f64]) -> Vec<f64> {
        let r = self.rank();
        (0..self.d)
            .map(|j| {
                let row = &self.w[j * r..(j + 1) * r];
                row.iter().zip(alpha).map(|(a, b)| a * b).sum()
            })
            .collect()
    }
}

fn check_inputs(x: &[f64], n: usize, d: usize, y: &[f64], cutoff: f64) -> Result<(), MinimalError> {
    if n == 0 || d == 0 {
        return Err(MinimalError::config(
            "n x d",
            format!("{n} x {d}"),
            "use at least one sample and one feature",
        ));
    }
    if x.len() != n * d {
        return Err(MinimalError::Shape {
            what: "X",
            got: x.len(),
            expected: n * d,
            shape: format!("[{n}, {d}] row-major"),
        });
    }
    if y.len() != n {
        return Err(MinimalError::Shape {
            what: "y",
            got: y.len(),
            expected: n,
            shape: format!("[{n}]"),
        });
    }
    if let Some(index) = x.iter().position(|v| !v.is_finite()) {
        return Err(MinimalError::NonFinite { what: "X", index });
    }
    if let Some(index) = y.iter().position(|v| !v.is_finite()) {
        return Err(MinimalError::NonFinite { what: "y", index });
    }
    if !(0.0..1.0).contains(&cutoff) {
        return Err(MinimalError::config(
            "cutoff",
            cutoff,
            "use a relative cut-off in [0, 1), e.g. 1e-10",
        ));
    }
    Ok(())
}
