//! What a training run of the minimalist model is asked to do ([`MinimalConfig`], serde, with
//! defaults written beside each field) and what it reports ([`TrajectoryRow`], [`Summary`]).
//!
//! Notation: η step size (`lr`), D depth, B batch size, C layer imbalance, Ŝ_D predicted
//! sharpness; "time" is t = η·step for every method, so gradient flow is comparable to GD.
//!
//! # Limitations
//!
//! The status thresholds (loss goal, divergence factor, edge-of-stability window and band) are
//! heuristics with stated defaults, not theorems; change them in the config when a study needs.

use serde::{Deserialize, Serialize};

use crate::error::MinimalError;
use crate::theory::Bounds;

/// How parameters are updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Full-batch gradient descent with step η.
    #[default]
    Gd,
    /// Mini-batch SGD: batches of `batch_size` drawn without replacement within an epoch.
    Sgd,
    /// Gradient flow dθ/dt = −∇L, Dormand–Prince RK45 with `flow_rtol` / `flow_atol`, run
    /// to time η·steps.
    Flow,
}

/// The training arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    #[default]
    F64,
    F32,
}

/// How θ = (u, v) starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Init {
    /// u ~ scale·N(0, I/d), every vᵢ = scale (seeded by `seed`).
    Random { scale: f64 },
    /// Exactly balanced: u drawn as in `Random`, its part in W rescaled to norm `scale`, every
    /// vᵢ = scale, so ‖Π_W u‖ = |vᵢ| for all i (C = 0 and every gap 0).
    Balanced { scale: f64 },
    /// Given parameters: u of length d, v of length D − 1.
    Explicit { u: Vec<f64>, v: Vec<f64> },
}

impl Default for Init {
    fn default() -> Self {
        Init::Random { scale: 0.1 }
    }
}

/// One training run of the minimalist model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MinimalConfig {
    /// D ≥ 1: u plus D − 1 scalar layers (D = 1 is linear regression). Default 2.
    pub depth: usize,
    /// η > 0, the step size (the time unit for gradient flow). Default 0.01.
    pub lr: f64,
    /// GD, SGD or gradient flow. Default GD.
    pub method: Method,
    /// B for SGD, 1 ≤ B ≤ N. Default 50.
    pub batch_size: usize,
    /// Steps to run (gradient flow: time η·steps). Default 10,000.
    pub steps: usize,
    /// Record a trajectory row every k steps (and always the first and last). Default 1.
    pub record_every: usize,
    /// Compute the exact sharpness every k steps (0: only in recorded rows). Default 1.
    pub sharpness_every: usize,
    /// f64 or f32 arithmetic. Default f64.
    pub precision: Precision,
    /// The initialization. Default random with scale 0.1.
    pub init: Init,
    /// Seed of the initialization and the SGD batch order. Default 0.
    pub seed: u64,
    /// Converged: loss − min loss ≤ this. Default 1e-10.
    pub loss_goal: f64,
    /// Stop as soon as converged (otherwise run all steps). Default true.
    pub stop_at_convergence: bool,
    /// Diverged: loss non-finite or above this factor times max(initial loss, 1). Default 1e6.
    pub divergence_factor: f64,
    /// Edge of stability: the last `eos_window` sharpness values lie within `eos_band`
    /// (relative) of 2/η. Defaults 200 and 0.05.
    pub eos_window: usize,
    pub eos_band: f64,
    /// Gradient-flow tolerances (per-component error ≤ atol + rtol·|θ|). Defaults 1e-10, 1e-12.
    pub flow_rtol: f64,
    pub flow_atol: f64,
}

impl Default for MinimalConfig {
    fn default() -> Self {
        MinimalConfig {
            depth: 2,
            lr: 0.01,
            method: Method::Gd,
            batch_size: 50,
            steps: 10_000,
            record_every: 1,
            sharpness_every: 1,
            precision: Precision::F64,
            init: Init::default(),
            seed: 0,
            loss_goal: 1e-10,
            stop_at_convergence: true,
            divergence_factor: 1e6,
            eos_window: 200,
            eos_band: 0.05,
            flow_rtol: 1e-10,
            flow_atol: 1e-12,
        }
    }
}

impl MinimalConfig {
    /// Checks every field against N (samples) and d (input dimension).
    pub fn validate(&self, n: usize, d: usize) -> Result<(), MinimalError> {
        if self.depth == 0 {
            return Err(MinimalError::config(
                "depth",
                0,
                "use a depth D >= 1 (D = 1 is linear regression)",
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(MinimalError::config(
                "lr",
                self.lr,
                "use a finite step size > 0",
            ));
        }
        if self.method == Method::Sgd && (self.batch_size == 0 || self.batch_size > n) {
            return Err(MinimalError::config(
                "batch_size",
                self.batch_size,
                "use 1 <= B <= N",
            ));
        }
        if self.record_every == 0 {
            return Err(MinimalError::config(
                "record_every",
                0,
                "record at least every step (k >= 1)",
            ));
        }
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !(positive(self.flow_rtol) && positive(self.flow_atol)) {
            return Err(MinimalError::config(
                "flow_rtol/flow_atol",
                format!("{}/{}", self.flow_rtol, self.flow_atol),
                "use finite tolerances > 0",
            ));
        }
        if !(self.loss_goal >= 0.0 && self.divergence_factor > 1.0 && self.eos_band > 0.0) {
            return Err(MinimalError::config(
                "loss_goal/divergence_factor/eos_band",
                format!(
                    "{}/{}/{}",
                    self.loss_goal, self.divergence_factor, self.eos_band
                ),
                "use loss_goal >= 0, divergence_factor > 1, eos_band > 0",
            ));
        }
        match &self.init {
            Init::Random { scale } | Init::Balanced { scale } if !scale.is_finite() => Err(
                MinimalError::config("init scale", scale, "use a finite scale"),
            ),
            Init::Explicit { u, .. } if u.len() != d => Err(MinimalError::Shape {
                what: "initial u",
                got: u.len(),
                expected: d,
                shape: format!("[{d}]"),
            }),
            Init::Explicit { v, .. } if v.len() + 1 != self.depth => Err(MinimalError::Shape {
                what: "initial v",
                got: v.len(),
                expected: self.depth - 1,
                shape: "[D - 1]".into(),
            }),
            Init::Explicit { u, v } if u.iter().chain(v).any(|x| !x.is_finite()) => {
                Err(MinimalError::NonFinite {
                    what: "initial parameters",
                    index: 0,
                })
            }
            _ => Ok(()),
        }
    }
}

/// How a run ended, checked in this order:
/// - `diverged`: the loss became non-finite or exceeded `divergence_factor`·max(L₀, 1); the run
///   stopped there and the trajectory up to that point is kept.
/// - `converged`: the excess loss L − L_min fell to `loss_goal` or below (L_min = ‖y⊥‖²/2N).
/// - `edge_of_stability`: not converged, and the last `eos_window` sharpness values computed
///   (GD and SGD only) all lie within `eos_band` of 2/η.
/// - `not_converged`: none of the above when the steps ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Converged,
    Diverged,
    EdgeOfStability,
    NotConverged,
}

impl Status {
    /// `converged`, `diverged`, `edge_of_stability` or `not_converged` (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Converged => "converged",
            Status::Diverged => "diverged",
            Status::EdgeOfStability => "edge_of_stability",
            Status::NotConverged => "not_converged",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recorded point of a trajectory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryRow {
    /// Steps taken (gradient flow: time / η).
    pub step: usize,
    /// t = η·step.
    pub time: f64,
    /// The full-batch loss L(θ).
    pub loss: f64,
    /// The exact sharpness S(θ), when computed for this row.
    pub sharpness: Option<f64>,
    /// 2/η, the GD stability threshold.
    pub two_over_lr: f64,
    /// C = ‖Π_W u‖² − v₁² (None for D = 1).
    pub imbalance: Option<f64>,
    /// ‖u‖, including the part outside W, which never changes.
    pub u_norm: f64,
    /// ‖Π_W u‖.
    pub projected_u_norm: f64,
    /// v₁ … v_{D−1}.
    pub v: Vec<f64>,
    /// vᵢ² − vᵢ₊₁², i = 1 … D − 2.
    pub gaps: Vec<f64>,
}

impl TrajectoryRow {
    /// CSV column names for depth D (v and gaps spread over numbered columns).
    pub fn csv_header(depth: usize) -> Vec<String> {
        let mut header: Vec<String> = [
            "step",
            "time",
            "loss",
            "sharpness",
            "two_over_lr",
            "imbalance",
            "u_norm",
            "projected_u_norm",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        header.extend((1..depth).map(|i| format!("v{i}")));
        header.extend((1..depth.saturating_sub(1)).map(|i| format!("gap{i}")));
        header
    }

    /// The row's CSV fields, matching [`TrajectoryRow::csv_header`] (empty for None).
    pub fn csv_record(&self) -> Vec<String> {
        let optional = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        let mut record = vec![
            self.step.to_string(),
            self.time.to_string(),
            self.loss.to_string(),
            optional(self.sharpness),
            self.two_over_lr.to_string(),
            optional(self.imbalance),
            self.u_norm.to_string(),
            self.projected_u_norm.to_string(),
        ];
        record.extend(self.v.iter().chain(&self.gaps).map(|x| x.to_string()));
        record
    }
}

/// The outcome of a run, for summary.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub config: MinimalConfig,
    pub n: usize,
    pub d: usize,
    pub rank: usize,
    pub steps_run: usize,
    pub final_time: f64,
    pub status: Status,
    pub final_loss: f64,
    /// L_min = ‖y⊥‖²/2N, the least loss any parameters reach.
    pub min_loss: f64,
    pub final_sharpness: f64,
    pub two_over_lr: f64,
    /// Q, the dataset difficulty.
    pub difficulty: f64,
    pub sigma1_sq_over_n: f64,
    /// Ŝ_D.
    pub predicted_sharpness: f64,
    /// D = 2: bounds at the minimum with the final C; D ≥ 3: balanced-minimum bounds (they
    /// assume balance: compare `final_gaps`); D = 1: both σ₁²/N.
    pub lower_bound: f64,
    pub upper_bound: f64,
    pub bounds_kind: String,
    pub final_imbalance: Option<f64>,
    pub final_gaps: Vec<f64>,
    pub final_v: Vec<f64>,
    pub final_u_norm: f64,
}

impl Summary {
    pub(crate) fn set_bounds(&mut self, bounds: Bounds, kind: &str) {
        self.lower_bound = bounds.lower;
        self.upper_bound = bounds.upper;
        self.bounds_kind = kind.to_string();
    }
}
