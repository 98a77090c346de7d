//! Sharpness: the top algebraic eigenvalue λ_max of the loss Hessian ∇²L(θ), estimated from
//! exact Hessian-vector products by Lanczos (default) or power iteration with a residual stop,
//! both from `sharplab-spectrum`. The Hessian is seen as a symmetric operator on flat f64
//! vectors of length P (parameters concatenated in flat order).
//!
//! Gradient descent with step η on a quadratic is stable iff λ_max < 2/η; the edge of
//! stability is sharpness hovering at 2/η.
//!
//! # Limitations
//!
//! A warm start carries a risk no stopping test removes: if another eigenvalue has overtaken
//! the previous top one and the old eigenvector holds almost none of its direction, a few
//! products can settle on the old one. Lanczos makes at least three products from a warm start
//! to give the Krylov space a chance to reach it; power iteration has no such guard. A cold
//! start (no previous vector) is free of this.
//!
//! Each product crosses between host and device once (the solvers work on host vectors); at
//! P ≈ 650k that is a few milliseconds against ~0.1 s for the product itself. Lanczos keeps its
//! whole basis on the host (8·P bytes per product).

use burn_backend::Backend;
use serde::{Deserialize, Serialize};
use sharplab_spectrum::{
    LanczosOptions, OperatorError, PowerOptions, Shift, SymmetricOperator, lanczos, power_iteration,
};

use crate::NetsError;
use crate::backend::download;
use crate::problem::{DeviceParams, Problem};

/// Which eigen-solver estimates sharpness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Estimator {
    /// Lanczos with full reorthogonalisation: few products, top-k at once.
    #[default]
    Lanczos,
    /// Power iteration (shifted automatically to the top algebraic eigenvalue), top-1 only.
    Power,
}

impl std::str::FromStr for Estimator {
    type Err = NetsError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "lanczos" => Ok(Self::Lanczos),
            "power" => Ok(Self::Power),
            _ => Err(NetsError::UnknownChoice {
                what: "estimator",
                name: name.to_string(),
                choices: "lanczos, power",
            }),
        }
    }
}

/// How to estimate sharpness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SharpnessOptions {
    /// Solver (default Lanczos).
    pub estimator: Estimator,
    /// Number of top eigenvalues (Lanczos only; default 1).
    pub top_k: usize,
    /// Relative residual ‖Hv − λv‖/|λ| to stop at (default 1e-3; the eigenvalue itself is then
    /// accurate to roughly the residual squared times λ over the spectral gap).
    pub tol: f64,
    /// Most Hessian-vector products per estimate (default 100).
    pub max_products: usize,
    /// Seed of the random start vector when there is no warm start.
    pub seed: u64,
}

impl Default for SharpnessOptions {
    fn default() -> Self {
        Self {
            estimator: Estimator::Lanczos,
            top_k: 1,
            tol: 1e-3,
            max_products: 100,
            seed: 0,
        }
    }
}

/// The top of the Hessian's spectrum at one θ.
#[derive(Debug, Clone, PartialEq)]
pub struct SharpnessEstimate {
    /// Top eigenvalues, descending; `values[0]` is the sharpness.
    pub values: Vec<f64>,
    /// Unit top eigenvector (flat, length P): the warm start for the next estimate.
    pub vector: Vec<f64>,
    /// Relative residual of each value.
    pub residuals: Vec<f64>,
    /// Hessian-vector products it took.
    pub products: usize,
    /// Whether every residual reached the tolerance.
    pub converged: bool,
}

impl SharpnessEstimate {
    /// λ_max.
    pub fn sharpness(&self) -> f64 {
        self.values.first().copied().unwrap_or(f64::NAN)
    }
}

/// ∇²L(θ) as a symmetric operator on flat host vectors.
pub struct HessianOperator<'a, B: Backend> {
    problem: &'a Problem<B>,
    params: &'a DeviceParams<B>,
    dim: usize,
}

impl<'a, B: Backend> HessianOperator<'a, B> {
    /// The Hessian of `problem`'s loss at `params`.
    pub fn new(problem: &'a Problem<B>, params: &'a DeviceParams<B>) -> Self {
        let dim = problem.spec().num_params();
        Self {
            problem,
            params,
            dim,
        }
    }

    fn product(&self, v: &[f64], out: &mut [f64]) -> Result<(), NetsError> {
        let direction = self.problem.upload_flat(v)?;
        let mut offset = 0;
        for part in self.problem.hvp(self.params, &direction) {
            let values = download::<B>(part)?;
            out[offset..offset + values.len()].copy_from_slice(&values);
            offset += values.len();
        }
        Ok(())
    }
}

impl<B: Backend> SymmetricOperator for HessianOperator<'_, B> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn apply(&mut self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        self.product(v, out).map_err(OperatorError::new)
    }
}

/// The fewest products a warm-started Lanczos estimate makes.
const WARM_MIN_PRODUCTS: usize = 3;

/// Estimates the top of ∇²L(θ)'s spectrum, warm-started from `start` (e.g. the previous top
/// eigenvector) when given.
pub fn estimate_sharpness<B: Backend>(
    problem: &Problem<B>,
    params: &DeviceParams<B>,
    options: &SharpnessOptions,
    start: Option<Vec<f64>>,
) -> Result<SharpnessEstimate, NetsError> {
    let mut operator = HessianOperator::new(problem, params);
    let spectrum_error =
        |err: sharplab_spectrum::SpectrumError| NetsError::Spectrum(err.to_string());
    let estimate = match options.estimator {
        Estimator::Lanczos => {
            // A warm start gets three products at least: the previous top eigenvector may by
            // now belong to the second eigenvalue (a crossing), and would pass after one.
            let min_products = if start.is_some() {
                WARM_MIN_PRODUCTS
            } else {
                1
            };
            let result = lanczos(
                &mut operator,
                &LanczosOptions {
                    k: options.top_k.max(1),
                    tol: options.tol,
                    max_products: options.max_products,
                    min_products,
                    start,
                    seed: options.seed,
                },
            )
            .map_err(spectrum_error)?;
            SharpnessEstimate {
                vector: result.vectors.first().cloned().unwrap_or_default(),
                values: result.values,
                residuals: result.residuals,
                products: result.products,
                converged: result.converged,
            }
        }
        Estimator::Power => {
            let result = power_iteration(
                &mut operator,
                &PowerOptions {
                    tol: options.tol,
                    max_products: options.max_products,
                    start,
                    seed: options.seed,
                    shift: Shift::Auto,
                },
            )
            .map_err(spectrum_error)?;
            SharpnessEstimate {
                values: vec![result.value],
                vector: result.vector,
                residuals: vec![result.residual],
                products: result.products,
                converged: result.converged,
            }
        }
    };
    if !estimate.converged {
        tracing::warn!(
            products = estimate.products,
            residual = estimate.residuals.first().copied().unwrap_or(f64::NAN),
            "sharpness estimate did not reach its tolerance; raise max_products"
        );
    }
    Ok(estimate)
}

/// Loss, accuracy and the top of the Hessian's spectrum of a saved network on a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub evaluation: crate::Evaluation,
    pub estimate: SharpnessEstimate,
}

/// Measures the network `spec` with parameters `params` on `data`, on the backend named.
#[allow(clippy::too_many_arguments)]
pub fn measure_sharpness(
    spec: &crate::NetSpec,
    params: &[Vec<f64>],
    loss: crate::Loss,
    data: &crate::Dataset,
    options: &SharpnessOptions,
    backend: crate::BackendKind,
    precision: crate::Precision,
    chunk_size: usize,
) -> Result<Measurement, NetsError> {
    crate::backend::dispatch!(backend, precision, |B, device| {
        let problem = Problem::<B>::new(spec, loss, data, chunk_size, precision, &device)?;
        let params = problem.upload_params(params)?;
        let evaluation = problem.evaluate(&params)?;
        let estimate = estimate_sharpness(&problem, &params, options, None)?;
        Ok(Measurement {
            evaluation,
            estimate,
        })
    })
}
