//! The one error type of `sharplab-nets`: every variant names the input that was wrong and
//! says how to fix it, so the command line can print it as a single line.
//!
//! # Limitations
//!
//! Errors raised inside burn itself (a backend that panics on an unsupported op) are not
//! caught here; they abort the process with burn's own message.

use std::path::PathBuf;

/// What went wrong, and which input caused it.
#[derive(Debug, thiserror::Error)]
pub enum NetsError {
    /// An architecture name that is not one of [`crate::Arch::NAMES`].
    #[error(
        "unknown architecture `{0}`: use one of fc-linear, fc-tanh, fc-relu, fc-elu, cnn-relu, cnn-tanh, minimalist"
    )]
    UnknownArch(String),
    /// A backend name that is not `cpu` or `wgpu`.
    #[error("unknown backend `{0}`: use `cpu` or `wgpu`")]
    UnknownBackend(String),
    /// A precision name that is not `f32` or `f64`.
    #[error("unknown precision `{0}`: use `f32` or `f64`")]
    UnknownPrecision(String),
    /// A name for a loss, optimizer or estimator that is not known.
    #[error("unknown {what} `{name}`: use one of {choices}")]
    UnknownChoice {
        what: &'static str,
        name: String,
        choices: &'static str,
    },
    /// The wgpu backend was asked for in a build without it.
    #[error("backend `wgpu` is not in this build: rebuild with `--features wgpu`")]
    BackendNotBuilt,
    /// The backend cannot hold the requested floating-point precision.
    #[error(
        "backend `{backend}` does not support {precision} on this device: use `--precision f32`"
    )]
    PrecisionUnsupported {
        backend: &'static str,
        precision: &'static str,
    },
    /// A configuration value out of its valid range.
    #[error("invalid {name} = {value}: {fix}")]
    InvalidConfig {
        name: &'static str,
        value: String,
        fix: String,
    },
    /// The data do not fit the network or are internally inconsistent.
    #[error("invalid data: {0}")]
    InvalidData(String),
    /// A parameter vector or checkpoint tensor has the wrong shape for the network.
    #[error("parameter `{name}` has shape {found:?} but the network needs {expected:?}: {fix}")]
    ShapeMismatch {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
        fix: &'static str,
    },
    /// A checkpoint file that cannot be read as sharplab safetensors.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint { path: PathBuf, reason: String },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The eigenvalue solver failed.
    #[error("sharpness estimate failed: {0}")]
    Spectrum(String),
    /// The backend failed to run or read back a tensor.
    #[error("backend: {0}")]
    Backend(String),
    /// The observer asked to stop, or failed (e.g. a CSV write error).
    #[error("observer: {0}")]
    Observer(String),
}

impl NetsError {
    /// Shorthand for [`NetsError::InvalidConfig`].
    pub fn config(name: &'static str, value: impl ToString, fix: impl Into<String>) -> Self {
        Self::InvalidConfig {
            name,
            value: value.to_string(),
            fix: fix.into(),
        }
    }
}
