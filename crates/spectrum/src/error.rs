//! Errors of the eigen-solvers and of the operators they call.
//!
//! [`OperatorError`] is what a [`crate::SymmetricOperator`] returns when its product fails
//! (a failed Hessian-vector product, say); [`SpectrumError`] is what the solvers return, and
//! names the offending input and how to fix it.
//!
//! # Limitations
//!
//! An operator error is carried as a boxed source: its concrete type is lost unless the caller
//! downcasts it.

use std::error::Error;

/// A failure inside [`crate::SymmetricOperator::apply`], wrapping the operator's own error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OperatorError(pub Box<dyn Error + Send + Sync>);

impl OperatorError {
    /// Wraps any error, or a message (`&str`, `String`), as an operator failure.
    pub fn new(source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self(source.into())
    }
}

/// Why an eigenvalue or trace estimate could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum SpectrumError {
    /// The operator's product failed.
    #[error("the operator failed at product {product}: {source}")]
    Operator {
        /// 1-based index of the failing product.
        product: usize,
        /// The operator's own error.
        source: OperatorError,
    },

    /// The operator returned NaN or an infinity.
    #[error(
        "the operator returned a non-finite value (NaN or infinity) at product {product}, \
         component {index}; check the loss and parameters for overflow or NaN"
    )]
    NonFiniteProduct {
        /// 1-based index of the failing product.
        product: usize,
        /// Index of the first non-finite component of the output.
        index: usize,
    },

    /// The start vector has the wrong length.
    #[error(
        "the start vector has {found} components but the operator has dimension {expected}; \
         pass a vector of the operator's dimension, or no start vector"
    )]
    StartLength {
        /// The operator's dimension.
        expected: usize,
        /// The start vector's length.
        found: usize,
    },

    /// The start vector is zero or not finite, so it gives no direction.
    #[error(
        "the start vector is zero or contains NaN or infinity; pass a nonzero finite vector, \
         or no start vector for a random one"
    )]
    DegenerateStart,

    /// An option is out of its range.
    #[error("option `{name}` is invalid: {reason}")]
    InvalidOption {
        /// The option's field name.
        name: &'static str,
        /// What is wrong and what is allowed.
        reason: String,
    },

    /// The operator has dimension 0, so it has no eigenvalue.
    #[error("the operator has dimension 0 and no eigenvalue; pass a nonempty operator")]
    EmptyOperator,

    /// A dense matrix given to [`crate::DenseSymmetric::new`] is malformed.
    #[error("dense matrix is not a symmetric {dim}x{dim} matrix: {reason}")]
    InvalidMatrix {
        /// The requested dimension.
        dim: usize,
        /// What is wrong.
        reason: String,
    },

    /// The small tridiagonal eigenproblem inside Lanczos did not converge.
    #[error(
        "the {size}x{size} tridiagonal eigenproblem did not converge; \
         this indicates NaN in the Lanczos coefficients"
    )]
    TridiagonalNoConvergence {
        /// Size of the tridiagonal matrix.
        size: usize,
    },
}
