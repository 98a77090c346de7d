//! The theory of Yoo, Song and Yun (ICML 2025) for the minimalist model: dataset difficulty Q,
//! predicted sharpness Ŝ_D, sharpness bounds at global minima, and the layer imbalance C with
//! its change under one GD or SGD step. Names follow the paper; formulas are in THEORY.md.
//!
//! Notation: N samples, σ₁ the top singular value of X, dᵢ = eᵢᵀy, Q = Σdᵢ²/σᵢ² = ‖X⁺y‖²,
//! D depth, C = ‖Π_W u‖² − v₁² (D = 2), balance gaps vᵢ² − vᵢ₊₁², η step size, B batch size.
//!
//! # Limitations
//!
//! Q is computed over the singular values kept by the relative cut-off of [`Reduced`]; a cut-off
//! that keeps near-zero σᵢ lets Q explode (the report says how many were dropped). The D = 2
//! bounds and the SGD expectation hold for D = 2 only; for D ≥ 3 only balanced minima are covered.

use serde::{Deserialize, Serialize};

use crate::error::MinimalError;
use crate::model::products;
use crate::reduced::Reduced;

/// Dataset difficulty and the spectrum facts it depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difficulty {
    /// N.
    pub n: usize,
    /// Q = Σᵢ dᵢ²/σᵢ² = ‖X⁺y‖², the paper's dataset difficulty.
    #[serde(rename = "Q")]
    pub q: f64,
    /// σ₁, the top singular value of X.
    pub sigma1: f64,
    /// σ₁²/N, the top eigenvalue of XᵀX/N.
    pub sigma1_sq_over_n: f64,
    /// Σᵢ dᵢ² = ‖EᵀY‖², the fittable part of ‖y‖².
    pub target_energy: f64,
    /// d₁², the target energy along the top singular direction.
    pub d1_sq: f64,
    /// r, the singular values kept.
    pub rank: usize,
    /// The relative cut-off: σᵢ ≤ cutoff·σ₁ were dropped.
    pub cutoff: f64,
    /// How many singular values the cut-off dropped.
    pub dropped: usize,
}

/// Lower and upper bounds on the sharpness at a global minimum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    pub lower: f64,
    pub upper: f64,
}

/// Q, σ₁²/N and the rank facts of a reduced problem.
pub fn difficulty(reduced: &Reduced) -> Difficulty {
    let (sigma, coef) = (reduced.sigma(), reduced.target_coef());
    let q = sigma.iter().zip(coef).map(|(s, c)| (c / s).powi(2)).sum();
    let sigma1 = sigma[0];
    Difficulty {
        n: reduced.n(),
        q,
        sigma1,
        sigma1_sq_over_n: sigma1 * sigma1 / reduced.n() as f64,
        target_energy: coef.iter().map(|c| c * c).sum(),
        d1_sq: coef[0] * coef[0],
        rank: reduced.rank(),
        cutoff: reduced.cutoff(),
        dropped: reduced.dropped(),
    }
}

/// Ŝ_D = (σ₁²/N)·Q^{(D−1)/D}, the paper's predicted sharpness for depth D ≥ 1.
pub fn predicted_sharpness(sigma1_sq_over_n: f64, q: f64, depth: usize) -> f64 {
    let depth = depth as f64;
    sigma1_sq_over_n * q.powf((depth - 1.0) / depth)
}

/// v*² = (√(C² + 4Q) − C)/2, the squared second layer at the D = 2 global minimum with layer
/// imbalance C (computed without cancellation for large C > 0).
pub fn minimum_v_sq(imbalance: f64, q: f64) -> f64 {
    let root = (imbalance * imbalance + 4.0 * q).sqrt();
    if imbalance > 0.0 {
        2.0 * q / (root + imbalance)
    } else {
        0.5 * (root - imbalance)
    }
}

/// The D = 2 bounds at the global minimum reached with imbalance C:
/// (1/N)[σ₁²v*² + d₁²/v*²] ≤ S ≤ (1/N)[σ₁²v*² + (Σdᵢ²)/v*²].
pub fn imbalance_minimum_bounds(difficulty: &Difficulty, imbalance: f64) -> Bounds {
    let v_sq = minimum_v_sq(imbalance, difficulty.q);
    let n = difficulty.n as f64;
    let base = difficulty.sigma1 * difficulty.sigma1 * v_sq;
    Bounds {
        lower: (base + difficulty.d1_sq / v_sq) / n,
        upper: (base + difficulty.target_energy / v_sq) / n,
    }
}

/// The bounds at a balanced global minimum (every layer with squared norm Q^{1/D}), D ≥ 1:
/// (1/N)[σ₁²Q^{(D−1)/D} + (D−1)d₁²Q^{−1/D}] ≤ S ≤ (1/N)[σ₁²Q^{(D−1)/D} + (D−1)(Σdᵢ²)Q^{−1/D}].
/// For D = 1 both equal σ₁²/N, the exact sharpness of linear regression.
pub fn balanced_minimum_bounds(difficulty: &Difficulty, depth: usize) -> Bounds {
    let n = difficulty.n as f64;
    let layers = depth as f64;
    let base = difficulty.sigma1 * difficulty.sigma1 * difficulty.q.powf((layers - 1.0) / layers);
    let tail = (layers - 1.0) * difficulty.q.powf(-1.0 / layers);
    if depth <= 1 {
        let exact = difficulty.sigma1_sq_over_n;
        return Bounds {
            lower: exact,
            upper: exact,
        };
    }
    Bounds {
        lower: (base + tail * difficulty.d1_sq) / n,
        upper: (base + tail * difficulty.target_energy) / n,
    }
}

/// Layer imbalance: C = ‖Π_W u‖² − v₁² (None for D = 1) and the balance gaps vᵢ² − vᵢ₊₁².
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerImbalance {
    pub c: Option<f64>,
    pub gaps: Vec<f64>,
}

/// The layer imbalance from ‖Π_W u‖² = ‖α‖² and the scalars v.
pub fn layer_imbalance(projected_u_sq: f64, v: &[f64]) -> LayerImbalance {
    LayerImbalance {
        c: v.first().map(|v1| projected_u_sq - v1 * v1),
        gaps: v
            .windows(2)
            .map(|pair| pair[0] * pair[0] - pair[1] * pair[1])
            .collect(),
    }
}

/// The exact change of C = ‖Π_W u‖² − v₁² in one GD step of size η for D = 2:
/// ΔC = η²(‖Π_W g_u‖² − g_v²), from ‖Π_W g_u‖² = ‖∇_αL‖² and g_v = ∂L/∂v₁.
pub fn gd_imbalance_change(lr: f64, grad_alpha_sq: f64, grad_v: f64) -> f64 {
    lr * lr * (grad_alpha_sq - grad_v * grad_v)
}

/// E[ΔC] for one SGD step of size η with a batch of B samples drawn without replacement, D = 2:
/// η²(‖g_u‖² − g_v²) + η²κ(v²s_a² − s_b²), κ = (N − B)/(B(N − 1)), where s_a² and s_b² are the
/// population variances (1/N normalization) of the per-sample gradients xᵢrᵢ and (xᵢᵀu)rᵢ.
/// Errors unless D = 2 (`v.len() == 1`), 1 ≤ B ≤ N and `alpha.len()` = r.
pub fn sgd_expected_imbalance_change(
    reduced: &Reduced,
    alpha: &[f64],
    v: &[f64],
    lr: f64,
    batch: usize,
) -> Result<f64, MinimalError> {
    let (n, r) = (reduced.n(), reduced.rank());
    if v.len() != 1 {
        return Err(MinimalError::Config {
            what: "depth",
            value: (v.len() + 1).to_string(),
            fix: "the expected SGD change of C is derived for D = 2 only",
        });
    }
    if !(1..=n).contains(&batch) {
        return Err(MinimalError::Config {
            what: "batch size",
            value: batch.to_string(),
            fix: "use 1 <= B <= N",
        });
    }
    if alpha.len() != r {
        return Err(MinimalError::Shape {
            what: "alpha",
            got: alpha.len(),
            expected: r,
            shape: format!("[{r}] (the rank of X)"),
        });
    }
    let (product, _) = products(v);
    let sigma = reduced.sigma();

    // Per-sample gradients: a_i = Wᵀxᵢ·rᵢ (in ℝʳ, coordinates σₖEᵢₖrᵢ) and b_i = (xᵢᵀu)rᵢ.
    let mut per_a = vec![0.0; n * r]; // [n, r]
    let mut per_b = vec![0.0; n];
    for i in 0..n {
        let row = reduced.e_row(i);
        let z: f64 = (0..r).map(|k| row[k] * sigma[k] * alpha[k]).sum();
        let residual = product * z - reduced.y()[i];
        for k in 0..r {
            per_a[i * r + k] = sigma[k] * row[k] * residual;
        }
        per_b[i] = z * residual;
    }
    let mean_a: Vec<f64> = (0..r)
        .map(|k| (0..n).map(|i| per_a[i * r + k]).sum::<f64>() / n as f64)
        .collect();
    let mean_b = per_b.iter().sum::<f64>() / n as f64;
    let var_a = (0..n)
        .map(|i| {
            (0..r)
                .map(|k| (per_a[i * r + k] - mean_a[k]).powi(2))
                .sum::<f64>()
        })
        .sum::<f64>()
        / n as f64;
    let var_b = per_b.iter().map(|b| (b - mean_b).powi(2)).sum::<f64>() / n as f64;

    let grad_u_sq = product * product * mean_a.iter().map(|a| a * a).sum::<f64>();
    let grad_v = mean_b;
    let kappa = if n > 1 {
        (n - batch) as f64 / (batch as f64 * (n - 1) as f64)
    } else {
        0.0
    };
    Ok(lr * lr * (grad_u_sq - grad_v * grad_v) + lr * lr * kappa * (v[0] * v[0] * var_a - var_b))
}
