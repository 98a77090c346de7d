//! Practical networks with burn: MLPs of any depth (linear, tanh, ReLU, ELU), Cohen et al.'s
//! small CNNs and the minimalist model; MSE and cross-entropy; full-batch GD and SGD with
//! momentum; exact Hessian-vector products by double backward; sharpness (the top Hessian
//! eigenvalue) along training; PyTorch-compatible safetensors checkpoints.
//!
//! The pieces, one concern per module:
//!
//! - [`arch`]: the architectures as data (parameter names, shapes, flat order, init);
//! - [`model`]: the same networks as burn `Module`s (for inference and cross-checks);
//! - [`primitive`], [`loss`]: forward pass and loss as backend-generic primitive ops, which
//!   can be differentiated twice;
//! - [`problem`]: a network, loss and data set on a device: loss, gradient, HVP;
//! - [`sharpness`]: λ_max by Lanczos or power iteration over those HVPs;
//! - [`train`]: the training loop, [`TrainConfig`] → [`train()`] → [`TrainSummary`];
//! - [`checkpoint`]: safetensors in and out; [`backend`]: cpu (burn-flex) or wgpu, f32 or f64.
//!
//! Notation: N examples, d input dimension, k outputs, P parameters, η step size, λ_max the
//! sharpness; GD on MSE is stable while λ_max < 2/η.
//!
//! # Limitations
//!
//! Exact HVPs need every op of the model to be twice differentiable in burn-autodiff; fused
//! `linear`, the pooling layers and batch-norm are not, which is why [`primitive`] rewrites the
//! models and why no architecture uses batch-norm. The wgpu backend needs a build with
//! `--features wgpu`.

pub mod arch;
pub mod backend;
pub mod checkpoint;
pub mod dataset;
pub mod error;
pub mod loss;
pub mod model;
pub mod primitive;
pub mod problem;
pub mod sharpness;
pub mod train;

#[cfg(test)]
mod problem_tests;
#[cfg(test)]
mod real_data_tests;
#[cfg(test)]
mod test_util;
#[cfg(test)]
mod train_tests;
#[cfg(all(test, feature = "wgpu"))]
mod wgpu_tests;

pub use arch::{Activation, Arch, NetSpec, ParamSpec};
pub use backend::{BackendKind, Precision};
pub use checkpoint::{Checkpoint, load_checkpoint, save_checkpoint};
pub use dataset::Dataset;
pub use error::NetsError;
pub use loss::Loss;
pub use model::Network;
pub use problem::{Evaluation, Problem};
pub use sharpness::{Estimator, SharpnessEstimate, SharpnessOptions, estimate_sharpness};
pub use train::{
    Observer, Row, Status, TrainConfig, TrainOutcome, TrainState, TrainSummary, train,
};
