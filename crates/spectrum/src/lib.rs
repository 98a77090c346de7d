//! Eigenvalue and trace estimation for a symmetric operator known only through v ↦ Hv.
//!
//! Used for sharpness, the top eigenvalue λ_max of a loss Hessian H, where one product (a
//! Hessian-vector product) costs about a gradient; so every solver reports `products`, and is
//! designed to need few. Vectors are `f64` slices of the operator's dimension n; nothing here
//! knows about burn or the networks.
//!
//! - [`lanczos()`]: the top-k *algebraic* eigenvalues, with full reorthogonalisation and an
//!   early stop on the Ritz residual bound; warm-startable from the previous eigenvector.
//!   The recommended tool for sharpness.
//! - [`power_iteration`]: the top algebraic eigenvalue, shifting when the most negative one
//!   dominates in magnitude (see [`Shift`]).
//! - [`hutchinson_trace`]: tr H with Rademacher probes.
//!
//! Operators implement [`SymmetricOperator`]; [`FnOperator`] wraps a closure and
//! [`DenseSymmetric`] a small dense matrix.
//!
//! ```
//! use sharplab_spectrum::{DenseSymmetric, LanczosOptions, lanczos};
//!
//! // Eigenvalues 3, 1, −10: the top algebraic one is 3, although −10 is larger in magnitude.
//! let mut hessian = DenseSymmetric::diagonal(&[1.0, -10.0, 3.0]);
//! let top = lanczos(&mut hessian, &LanczosOptions { k: 1, tol: 1e-10, ..Default::default() })?;
//! assert!((top.values[0] - 3.0).abs() < 1e-10);
//! # Ok::<(), sharplab_spectrum::SpectrumError>(())
//! ```
//!
//! # Limitations
//!
//! Single-threaded, dense vectors only; memory is n floats per Lanczos vector kept. Only the
//! top of the spectrum is targeted: for the smallest eigenvalues, negate the operator.

mod error;
mod krylov;
mod lanczos;
mod operator;
mod power;
mod shifted_iteration;
mod trace;
mod tridiagonal;
mod vector;

#[cfg(test)]
mod test_matrices;

pub use error::{OperatorError, SpectrumError};
pub use lanczos::{LanczosOptions, LanczosResult, lanczos};
pub use operator::{DenseSymmetric, FnOperator, SymmetricOperator};
pub use power::{EigenEstimate, PowerOptions, Shift, power_iteration};
pub use trace::{TraceEstimate, hutchinson_trace};
