//! The two training losses, as backend-generic functions of primitive ops (so they can be
//! differentiated twice), plus accuracy.
//!
//! - **MSE**: L = (1/N)·Σᵢ ½‖f(xᵢ) − yᵢ‖². With the ½, a quadratic's GD is stable exactly when
//!   the top Hessian eigenvalue is below 2/η, the edge-of-stability threshold; this is Cohen et
//!   al.'s convention and the minimalist model's L = (1/2N)‖r‖².
//! - **Cross-entropy**: L = (1/N)·Σᵢ (log Σ_c e^{f_c(xᵢ)} − f_{yᵢ}(xᵢ)), the mean over examples,
//!   with y one-hot.
//!
//! Both are written as a *sum* over the examples given, scaled by 1/N with N the whole set's
//! size, so the losses and gradients of chunks simply add up to the full-batch ones.
//!
//! # Limitations
//!
//! Cross-entropy needs at least two outputs; with one output only MSE is meaningful.

use burn_backend::{Backend, Scalar, tensor::FloatTensor};
use serde::{Deserialize, Serialize};

use crate::NetsError;

/// Which loss to train on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// Mean over examples of ½‖f − y‖².
    #[default]
    Mse,
    /// Mean softmax cross-entropy against one-hot targets.
    CrossEntropy,
}

impl Loss {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mse => "mse",
            Self::CrossEntropy => "ce",
        }
    }
}

impl std::str::FromStr for Loss {
    type Err = NetsError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "mse" => Ok(Self::Mse),
            "ce" | "cross-entropy" => Ok(Self::CrossEntropy),
            _ => Err(NetsError::UnknownChoice {
                what: "loss",
                name: name.to_string(),
                choices: "mse, ce",
            }),
        }
    }
}

/// (1/N_total)·Σ over this batch of the per-example loss, as a one-element tensor.
///
/// `output` and `targets` are [n, k]; `n_total` is the size of the whole set the loss is a mean
/// over.
pub fn batch_loss<B: Backend>(
    loss: Loss,
    output: FloatTensor<B>,
    targets: FloatTensor<B>,
    n_total: usize,
) -> FloatTensor<B> {
    let scale = Scalar::from(1.0 / n_total as f64);
    match loss {
        Loss::Mse => {
            let residual = B::float_sub(output, targets);
            let squares = B::float_sum(B::float_mul(residual.clone(), residual));
            B::float_mul_scalar(squares, Scalar::from(0.5 / n_total as f64))
        }
        Loss::CrossEntropy => {
            // log-sum-exp, shifted by the row max for stability
            let row_max = B::float_max_dim(output.clone(), 1); // [n, 1]
            let shifted = B::float_sub(output.clone(), row_max.clone());
            let sum_exp = B::float_sum_dim(B::float_exp(shifted), 1); // [n, 1]
            let log_sum_exp = B::float_add(B::float_log(sum_exp), row_max);
            let target_logit = B::float_sum(B::float_mul(output, targets));
            let total = B::float_sub(B::float_sum(log_sum_exp), target_logit);
            B::float_mul_scalar(total, scale)
        }
    }
}

/// The predicted class of each row of `output` ([n, k], row-major): the argmax for k ≥ 2, the
/// sign (1 for ≥ 0, else 0) for k = 1.
pub fn predicted_classes(output: &[f64], k: usize) -> Vec<usize> {
    output
        .chunks_exact(k)
        .map(|row| {
            if k == 1 {
                usize::from(row[0] >= 0.0)
            } else {
                argmax(row)
            }
        })
        .collect()
}

/// Index of the largest entry (first on ties).
pub(crate) fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, value) in row.iter().enumerate() {
        if *value > row[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicted_classes_use_sign_for_one_output_and_argmax_otherwise() {
        assert_eq!(predicted_classes(&[0.3, -2.0, 0.0], 1), vec![1, 0, 1]);
        assert_eq!(
            predicted_classes(&[0.1, 0.7, 0.2, 5.0, 1.0, 4.0], 3),
            vec![1, 0]
        );
    }
}
