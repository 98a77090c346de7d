//! The floating-point type a training run computes in: `f64` by default, `f32` on request (the
//! decaying oscillation at the edge of stability depends on precision).
//!
//! # Limitations
//!
//! Only the two IEEE types are implemented; sharpness and every reported number are computed
//! in `f64` from the state, whatever the training precision.

use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

/// The arithmetic a training step needs, implemented for `f32` and `f64`.
pub trait Scalar:
    Copy
    + PartialOrd
    + Add<Output = Self>
    + AddAssign
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Send
    + Sync
    + 'static
{
    /// Rounds an `f64` to this type.
    fn from_f64(value: f64) -> Self;
    /// Widens to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Zero.
    fn zero() -> Self {
        Self::from_f64(0.0)
    }
}

impl Scalar for f64 {
    fn from_f64(value: f64) -> Self {
        value
    }
    fn to_f64(self) -> f64 {
        self
    }
}

impl Scalar for f32 {
    fn from_f64(value: f64) -> Self {
        value as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

/// Converts a slice to another precision.
pub(crate) fn convert<T: Scalar>(values: &[f64]) -> Vec<T> {
    values.iter().map(|&value| T::from_f64(value)).collect()
}
