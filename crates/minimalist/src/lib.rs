//! The minimalist model of Yoo, Song and Yun (ICML 2025), f(x) = (xᵀu)·v₁⋯v_{D−1} with the
//! square loss, and its theory: exact gradient, Hessian and sharpness in O(r·D) per step after
//! one SVD, GD / SGD / gradient-flow training, dataset difficulty Q, predicted sharpness Ŝ_D,
//! sharpness bounds at minima and the layer imbalance C.
//!
//! Notation (THEORY.md): N samples, d input dimension, D depth, θ = (u ∈ ℝᵈ, v ∈ ℝ^{D−1}),
//! L(θ) = (1/2N)‖Xu·P − y‖² with P = ∏vᵢ, η step size, S(θ) the largest algebraic Hessian
//! eigenvalue. Entry points: [`Reduced::new`], [`MinimalConfig`], [`train`]; the plain O(N·d)
//! [`PlainModel`] is the reference the fast path is tested against.
//!
//! ```no_run
//! use sharplab_minimalist::{MinimalConfig, Reduced, DEFAULT_CUTOFF, train};
//! # fn demo(x: &[f64], y: &[f64], n: usize, d: usize) -> Result<(), sharplab_minimalist::MinimalError> {
//! let reduced = Reduced::new(x, n, d, y, DEFAULT_CUTOFF)?;
//! let config = MinimalConfig { depth: 3, lr: 0.05, ..MinimalConfig::default() };
//! let summary = train(&reduced, &config, |row| tracing::debug!(row.step, row.loss))?;
//! println!("{:?} at sharpness {}", summary.status, summary.final_sharpness);
//! # Ok(()) }
//! ```
//!
//! # Limitations
//!
//! Dense SVD (memory O(N·d)); f64 or f32 only; the theory's bounds cover D = 2 and balanced
//! minima. No burn inside: this crate is plain arrays by design.

mod config;
mod error;
mod flow;
mod hessian;
mod init;
mod model;
mod plain;
mod reduced;
mod scalar;
pub mod theory;
mod train;

pub use config::{Init, Method, MinimalConfig, Precision, Status, Summary, TrajectoryRow};
pub use error::MinimalError;
pub use flow::{FlowStop, Rk45};
pub use hessian::{Arrowhead, Tracked};
pub use init::{Start, initial_params};
pub use model::{ReducedModel, products};
pub use plain::{PlainGradient, PlainModel};
pub use reduced::{DEFAULT_CUTOFF, Reduced};
pub use scalar::Scalar;
pub use train::train;

#[cfg(test)]
mod tests;
