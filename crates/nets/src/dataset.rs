//! The training set as plain host arrays, the way the rest of sharplab hands it over: inputs
//! x ∈ ℝ^{N×d} row-major (images CHW-flattened) and targets y ∈ ℝ^{N×k} (one-hot rows for
//! classification, a single ±1 column for binary targets).
//!
//! # Limitations
//!
//! The data are copied once to the device in the run's precision; nothing is streamed.

use crate::NetsError;
use crate::loss::argmax;

/// Inputs and targets of N examples.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// [N, d] row-major.
    pub x: Vec<f64>,
    /// [N, k] row-major: one-hot rows, or one ±1 column.
    pub y: Vec<f64>,
    /// Example shape [C, H, W], d = C·H·W.
    pub input_shape: [usize; 3],
    /// Number of target columns k.
    pub outputs: usize,
}

impl Dataset {
    /// Checks the sizes agree.
    pub fn new(
        x: Vec<f64>,
        y: Vec<f64>,
        input_shape: [usize; 3],
        outputs: usize,
    ) -> Result<Self, NetsError> {
        let d: usize = input_shape.iter().product();
        if d == 0 || outputs == 0 {
            return Err(NetsError::InvalidData(format!(
                "input shape {input_shape:?} and {outputs} outputs: both must be non-empty"
            )));
        }
        if !x.len().is_multiple_of(d)
            || !y.len().is_multiple_of(outputs)
            || x.len() / d != y.len() / outputs
        {
            return Err(NetsError::InvalidData(format!(
                "x has {} values (d = {d}) and y has {} values (k = {outputs}): they must \
                 describe the same number of examples",
                x.len(),
                y.len()
            )));
        }
        if x.is_empty() {
            return Err(NetsError::InvalidData(
                "no examples: use --n 1 or more".into(),
            ));
        }
        Ok(Self {
            x,
            y,
            input_shape,
            outputs,
        })
    }

    /// Number of examples N.
    pub fn len(&self) -> usize {
        self.y.len() / self.outputs
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Input dimension d.
    pub fn input_dim(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// The first `n` examples (all of them when `n` ≥ N).
    pub fn head(&self, n: usize) -> Self {
        let n = n.min(self.len());
        Self {
            x: self.x[..n * self.input_dim()].to_vec(),
            y: self.y[..n * self.outputs].to_vec(),
            input_shape: self.input_shape,
            outputs: self.outputs,
        }
    }

    /// The true class of each example: the argmax of its one-hot row, or for one column 1 when
    /// the target is ≥ 0 and 0 otherwise.
    pub fn labels(&self) -> Vec<usize> {
        self.y
            .chunks_exact(self.outputs)
            .map(|row| {
                if self.outputs == 1 {
                    usize::from(row[0] >= 0.0)
                } else {
                    argmax(row)
                }
            })
            .collect()
    }
}

/// Reads a file written by `sharplab data export`: `x` f32 [n, d] and `y` as f32 [n, k]
/// (one-hot), f32 [n] (±1) or i64 [n] (class index, turned into one-hot rows of `outputs`
/// columns). The examples take `input_shape`, which must have d = C·H·W.
pub fn load_exported(
    path: &std::path::Path,
    input_shape: [usize; 3],
    outputs: usize,
) -> Result<Dataset, NetsError> {
    use safetensors::{Dtype, SafeTensors};

    let bad = |reason: String| NetsError::InvalidData(format!("{}: {reason}", path.display()));
    let bytes = std::fs::read(path).map_err(|source| NetsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let tensors = SafeTensors::deserialize(&bytes).map_err(|err| {
        bad(format!(
            "not a safetensors file ({err}): give a file written by `sharplab data export`"
        ))
    })?;
    let tensor = |name: &str| {
        tensors.tensor(name).map_err(|_| {
            bad(format!(
                "no tensor `{name}`: give a file written by `sharplab data export`"
            ))
        })
    };

    let x_view = tensor("x")?;
    let d: usize = input_shape.iter().product();
    if x_view.shape().len() != 2 || x_view.shape()[1] != d {
        return Err(bad(format!(
            "x has shape {:?} but the network takes [n, {d}] (examples {input_shape:?}): export \
             the data set the network was trained on",
            x_view.shape()
        )));
    }
    let n = x_view.shape()[0];
    let x = crate::checkpoint::decode(x_view.dtype(), x_view.data())
        .ok_or_else(|| bad(format!("x is {:?}: use F32 or F64", x_view.dtype())))?;

    let y_view = tensor("y")?;
    let y = match (y_view.dtype(), y_view.shape()) {
        (Dtype::I64, [rows]) if *rows == n => {
            let mut one_hot = vec![0.0; n * outputs];
            for (row, bytes) in y_view.data().chunks_exact(8).enumerate() {
                let mut word = [0u8; 8];
                word.copy_from_slice(bytes);
                let label = i64::from_le_bytes(word);
                if label < 0 || label as usize >= outputs {
                    return Err(bad(format!(
                        "class index {label} at row {row} is outside 0..{outputs}: export the \
                         classes the network was trained on"
                    )));
                }
                one_hot[row * outputs + label as usize] = 1.0;
            }
            one_hot
        }
        (dtype, shape) if shape.iter().product::<usize>() == n * outputs && shape[0] == n => {
            crate::checkpoint::decode(dtype, y_view.data())
                .ok_or_else(|| bad(format!("y is {dtype:?}: use F32, F64 or I64")))?
        }
        (_, shape) => {
            return Err(bad(format!(
                "y has shape {shape:?} but the network has {outputs} outputs: export matching \
                 targets (one-hot for k > 1, pm1 for one output)"
            )));
        }
    };
    Dataset::new(x, y, input_shape, outputs)
}
