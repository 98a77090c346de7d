//! The one error type of the crate: every variant names the input that is wrong and says how
//! to fix it, so the command line can print it as a single line.
//!
//! # Limitations
//!
//! Messages are in English and meant for people; match on the variant, not the text.

/// What can go wrong when building a [`crate::Reduced`] problem or training on it.
#[derive(Debug, thiserror::Error)]
pub enum MinimalError {
    /// A length does not match the stated shape.
    #[error("{what} has {got} entries but {expected} were expected; pass arrays of shape {shape}")]
    Shape {
        what: &'static str,
        got: usize,
        expected: usize,
        shape: String,
    },
    /// An input contains NaN or an infinity.
    #[error(
        "{what} contains a non-finite value at index {index}; clean or re-standardize the data"
    )]
    NonFinite { what: &'static str, index: usize },
    /// The data matrix has no usable direction.
    #[error("the data matrix X is zero (largest singular value {sigma1}); pick a non-empty subset")]
    ZeroData { sigma1: f64 },
    /// A configuration value is out of range.
    #[error("{what} = {value} is invalid: {fix}")]
    Config {
        what: &'static str,
        value: String,
        fix: &'static str,
    },
    /// The SVD did not converge.
    #[error("the SVD of X ({n} x {d}) did not converge; check the data for extreme values")]
    Svd { n: usize, d: usize },
}

impl MinimalError {
    pub(crate) fn config(what: &'static str, value: impl ToString, fix: &'static str) -> Self {
        MinimalError::Config {
            what,
            value: value.to_string(),
            fix,
        }
    }
}
