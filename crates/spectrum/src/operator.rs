//! Symmetric operators given only through their product v ↦ Hv.
//!
//! Notation: H is a symmetric n×n matrix that is never formed; n = [`SymmetricOperator::dim`].
//! The solvers only call [`SymmetricOperator::apply`], and count every call as one product,
//! since for a network's Hessian one product costs about as much as a gradient.
//!
//! # Limitations
//!
//! Symmetry is the caller's promise: nothing checks that ⟨u, Hv⟩ = ⟨Hu, v⟩ for a general
//! operator. A nonsymmetric operator gives meaningless eigenvalue estimates.

use crate::error::{OperatorError, SpectrumError};

/// A symmetric linear map on ℝⁿ known only through its product.
pub trait SymmetricOperator {
    /// The dimension n of the space the operator acts on.
    fn dim(&self) -> usize;

    /// Writes `out = H v`. Both slices have length [`Self::dim`]; `out` holds stale values on
    /// entry and must be fully overwritten.
    fn apply(&mut self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError>;
}

/// An operator defined by a closure `f(v, out)` that writes `out = H v`.
///
/// For products that can fail, implement [`SymmetricOperator`] directly instead.
pub struct FnOperator<F> {
    dim: usize,
    product: F,
}

impl<F: FnMut(&[f64], &mut [f64])> FnOperator<F> {
    /// Wraps `product`, which must write `out = H v` for vectors of length `dim`.
    pub fn new(dim: usize, product: F) -> Self {
        Self { dim, product }
    }
}

impl<F: FnMut(&[f64], &mut [f64])> SymmetricOperator for FnOperator<F> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn apply(&mut self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        (self.product)(v, out);
        Ok(())
    }
}

/// A dense symmetric matrix stored row-major, for tests and small problems.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseSymmetric {
    dim: usize,
    /// Row-major entries, `entries[i * dim + j]` = H_ij.
    entries: Vec<f64>,
}

impl DenseSymmetric {
    /// Wraps a row-major `dim`×`dim` matrix after checking its length, finiteness and
    /// symmetry (|H_ij − H_ji| ≤ 1e-12 · max |H|).
    pub fn new(dim: usize, entries: Vec<f64>) -> Result<Self, SpectrumError> {
        let invalid = |reason: String| SpectrumError::InvalidMatrix { dim, reason };
        if entries.len() != dim * dim {
            return Err(invalid(format!(
                "{} entries, expected dim² = {}",
                entries.len(),
                dim * dim
            )));
        }
        if let Some(index) = entries.iter().position(|x| !x.is_finite()) {
            return Err(invalid(format!("entry {index} is not finite")));
        }

        let largest = entries.iter().fold(0.0_f64, |acc, x| acc.max(x.abs()));
        for i in 0..dim {
            for j in (i + 1)..dim {
                let (upper, lower) = (entries[i * dim + j], entries[j * dim + i]);
                if (upper - lower).abs() > 1e-12 * largest {
                    return Err(invalid(format!(
                        "H[{i}][{j}] = {upper} but H[{j}][{i}] = {lower}"
                    )));
                }
            }
        }
        Ok(Self { dim, entries })
    }

    /// The diagonal matrix with the given diagonal entries (its eigenvalues).
    pub fn diagonal(values: &[f64]) -> Self {
        let dim = values.len();
        let mut entries = vec![0.0; dim * dim];
        for (i, value) in values.iter().enumerate() {
            entries[i * dim + i] = *value;
        }
        Self { dim, entries }
    }

    /// The entry H_ij.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.entries[i * self.dim + j]
    }
}

impl SymmetricOperator for DenseSymmetric {
    fn dim(&self) -> usize {
        self.dim
    }

    fn apply(&mut self, v: &[f64], out: &mut [f64]) -> Result<(), OperatorError> {
        for (row, out_i) in self
            .entries
            .chunks_exact(self.dim.max(1))
            .zip(out.iter_mut())
        {
            *out_i = crate::vector::dot(row, v);
        }
        Ok(())
    }
}

/// Wraps an operator to count its products and reject non-finite output.
pub(crate) struct CountedOperator<'a> {
    operator: &'a mut dyn SymmetricOperator,
    /// Products made so far.
    pub(crate) products: usize,
}

impl<'a> CountedOperator<'a> {
    pub(crate) fn new(operator: &'a mut dyn SymmetricOperator) -> Self {
        Self {
            operator,
            products: 0,
        }
    }

    pub(crate) fn dim(&self) -> usize {
        self.operator.dim()
    }

    /// `out = H v`, counted; errors if the operator fails or returns NaN or infinity.
    pub(crate) fn apply(&mut self, v: &[f64], out: &mut [f64]) -> Result<(), SpectrumError> {
        self.products += 1;
        let product = self.products;
        self.operator
            .apply(v, out)
            .map_err(|source| SpectrumError::Operator { product, source })?;
        match out.iter().position(|x| !x.is_finite()) {
            Some(index) => Err(SpectrumError::NonFiniteProduct { product, index }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_product_matches_hand_computation() {
        let mut matrix = DenseSymmetric::new(2, vec![2.0, -1.0, -1.0, 3.0]).unwrap();
        let mut out = [f64::NAN; 2];
        matrix.apply(&[1.0, 2.0], &mut out).unwrap();
        assert_eq!(out, [0.0, 5.0]);
    }

    #[test]
    fn malformed_dense_matrices_are_rejected() {
        let asymmetric = DenseSymmetric::new(2, vec![1.0, 2.0, 0.0, 1.0]);
        assert!(matches!(
            asymmetric,
            Err(SpectrumError::InvalidMatrix { dim: 2, .. })
        ));
        assert!(DenseSymmetric::new(2, vec![1.0; 3]).is_err());
        assert!(DenseSymmetric::new(1, vec![f64::NAN]).is_err());
    }

    #[test]
    fn counted_operator_counts_and_rejects_infinity() {
        let mut op = crate::FnOperator::new(2, |v: &[f64], out: &mut [f64]| {
            out[0] = v[0];
            out[1] = 1.0 / v[1];
        });
        let mut counted = CountedOperator::new(&mut op);
        let mut out = [0.0; 2];
        counted.apply(&[1.0, 1.0], &mut out).unwrap();
        let error = counted.apply(&[1.0, 0.0], &mut out).unwrap_err();
        assert!(matches!(
            error,
            SpectrumError::NonFiniteProduct {
                product: 2,
                index: 1
            }
        ));
        assert_eq!(counted.products, 2);
    }
}
