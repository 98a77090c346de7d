//! Checkpoints as safetensors files that a PyTorch user can load into an equivalent
//! `torch.nn` module, and that `--resume` reads back.
//!
//! Names and shapes follow PyTorch (`arch::NetSpec::params` gives the names):
//!
//! - fc nets: `layers.{i}.weight` [out, in] and `layers.{i}.bias` [out], i = 0..=depth: a
//!   module with `self.layers = nn.ModuleList([nn.Linear(..) ...])` and the activation between
//!   layers. burn's Linear keeps its weight as [in, out]; it is transposed on save and load.
//! - CNNs: `conv1.weight` [32, C, 3, 3], `conv1.bias`, `conv2.weight` [32, 32, 3, 3],
//!   `conv2.bias`, `head.weight` [k, 32·H/4·W/4], `head.bias`: `nn.Conv2d(C, 32, 3, padding=1)`,
//!   activation, `nn.MaxPool2d(2)`, the same again, `nn.Flatten()` (CHW order), `head`.
//! - minimalist: `u` [d] and `v` [D − 1].
//!
//! Tensors are stored in the run's precision (F32 or F64). The header's metadata holds
//! `sharplab.spec` (the network as JSON), `sharplab.step` and `sharplab.loss`; with
//! `safetensors.torch.load_file` then `model.load_state_dict(...)` the file loads as is. A
//! momentum buffer, when there is one, goes to a sibling file `<stem>.momentum.safetensors`
//! with the same names, so the main file stays a clean `state_dict`. Files are written to
//! `name.tmp` and renamed, so a crash never leaves half a checkpoint.
//!
//! # Limitations
//!
//! Only F32 and F64 tensors are read; a checkpoint saved in f32 and resumed in f64 continues
//! from the f32-rounded values.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::{Loss, NetSpec, NetsError, ParamSpec, Precision, TrainState};

const SPEC_KEY: &str = "sharplab.spec";
const STEP_KEY: &str = "sharplab.step";
const LOSS_KEY: &str = "sharplab.loss";

/// A checkpoint's contents.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Network, step, parameters and momentum buffer.
    pub state: TrainState,
    /// The loss the run trained on, when recorded.
    pub loss: Option<Loss>,
}

/// Where the momentum buffer of the checkpoint at `path` lives.
pub fn momentum_path(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("checkpoint");
    path.with_file_name(format!("{stem}.momentum.safetensors"))
}

/// Writes `state` to `path` (and its momentum buffer beside it), atomically.
pub fn save_checkpoint(
    path: &Path,
    state: &TrainState,
    loss: Option<Loss>,
    precision: Precision,
) -> Result<(), NetsError> {
    let mut metadata = HashMap::new();
    let spec_json = serde_json::to_string(&state.spec).map_err(|err| NetsError::Checkpoint {
        path: path.to_path_buf(),
        reason: format!("cannot encode the network description: {err}"),
    })?;
    metadata.insert(SPEC_KEY.to_string(), spec_json);
    metadata.insert(STEP_KEY.to_string(), state.step.to_string());
    if let Some(loss) = loss {
        let name = match loss {
            Loss::Mse => "mse",
            Loss::CrossEntropy => "ce",
        };
        metadata.insert(LOSS_KEY.to_string(), name.to_string());
    }
    write_tensors(
        path,
        &state.spec,
        &state.params,
        metadata.clone(),
        precision,
    )?;
    if let Some(velocity) = &state.velocity {
        write_tensors(
            &momentum_path(path),
            &state.spec,
            velocity,
            metadata,
            precision,
        )?;
    }
    Ok(())
}

/// Reads a checkpoint written by [`save_checkpoint`] (and its momentum buffer, if present).
pub fn load_checkpoint(path: &Path) -> Result<Checkpoint, NetsError> {
    let bytes = read(path)?;
    let bad = |reason: String| NetsError::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|err| {
        bad(format!(
            "not a safetensors file ({err}): give a checkpoint written by `sharplab train`"
        ))
    })?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let spec_json = metadata.get(SPEC_KEY).ok_or_else(|| {
        bad(format!(
            "no `{SPEC_KEY}` in its metadata: give a checkpoint written by `sharplab train`"
        ))
    })?;
    let spec: NetSpec = serde_json::from_str(spec_json)
        .map_err(|err| bad(format!("unreadable `{SPEC_KEY}`: {err}")))?;
    spec.validate()?;
    let step = match metadata.get(STEP_KEY) {
        Some(text) => text
            .parse()
            .map_err(|err| bad(format!("unreadable `{STEP_KEY}` {text:?}: {err}")))?,
        None => 0,
    };
    let loss = metadata.get(LOSS_KEY).and_then(|name| name.parse().ok());
    let params = read_params(path, &bytes, &spec)?;

    let momentum = momentum_path(path);
    let velocity = if momentum.exists() {
        Some(read_params(&momentum, &read(&momentum)?, &spec)?)
    } else {
        None
    };
    Ok(Checkpoint {
        state: TrainState {
            spec,
            step,
            params,
            velocity,
        },
        loss,
    })
}

/// The torch shape of a parameter: Linear weights transposed.
fn torch_shape(param: &ParamSpec) -> Vec<usize> {
    if param.transposed {
        vec![param.shape[1], param.shape[0]]
    } else {
        param.shape.clone()
    }
}

/// Transposes a row-major [rows, cols] matrix.
fn transpose(values: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

fn write_tensors(
    path: &Path,
    spec: &NetSpec,
    params: &[Vec<f64>],
    metadata: HashMap<String, String>,
    precision: Precision,
) -> Result<(), NetsError> {
    spec.check_params(params)?;
    let encoded: Vec<(String, Vec<usize>, Vec<u8>)> = spec
        .params()
        .iter()
        .zip(params)
        .map(|(param, values)| {
            let values = if param.transposed {
                transpose(values, param.shape[0], param.shape[1])
            } else {
                values.clone()
            };
            let bytes = match precision {
                Precision::F64 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
                Precision::F32 => values
                    .iter()
                    .flat_map(|&v| (v as f32).to_le_bytes())
                    .collect(),
            };
            (param.name.clone(), torch_shape(param), bytes)
        })
        .collect();
    let dtype = match precision {
        Precision::F64 => Dtype::F64,
        Precision::F32 => Dtype::F32,
    };
    let views = encoded
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(dtype, shape.clone(), bytes).map(|view| (name.clone(), view))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| NetsError::Checkpoint {
            path: path.to_path_buf(),
            reason: format!("cannot encode: {err}"),
        })?;
    let bytes =
        safetensors::serialize(views, Some(metadata)).map_err(|err| NetsError::Checkpoint {
            path: path.to_path_buf(),
            reason: format!("cannot encode: {err}"),
        })?;
    write_atomically(path, &bytes)
}

fn read_params(path: &Path, bytes: &[u8], spec: &NetSpec) -> Result<Vec<Vec<f64>>, NetsError> {
    let bad = |reason: String| NetsError::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    let tensors = SafeTensors::deserialize(bytes)
        .map_err(|err| bad(format!("not a safetensors file ({err})")))?;
    spec.params()
        .iter()
        .map(|param| {
            let view = tensors.tensor(&param.name).map_err(|_| {
                bad(format!(
                    "no tensor `{}`: it does not hold a {} net of this shape",
                    param.name, spec.arch
                ))
            })?;
            let expected = torch_shape(param);
            if view.shape() != expected.as_slice() {
                return Err(NetsError::ShapeMismatch {
                    name: param.name.clone(),
                    expected,
                    found: view.shape().to_vec(),
                    fix: "use a checkpoint of the same architecture and data shape",
                });
            }
            let values = decode(view.dtype(), view.data()).ok_or_else(|| {
                bad(format!(
                    "tensor `{}` is {:?}: only F32 and F64 are supported",
                    param.name,
                    view.dtype()
                ))
            })?;
            Ok(if param.transposed {
                transpose(&values, param.shape[1], param.shape[0])
            } else {
                values
            })
        })
        .collect()
}

/// Little-endian F32 or F64 bytes as f64 values.
pub(crate) fn decode(dtype: Dtype, bytes: &[u8]) -> Option<Vec<f64>> {
    match dtype {
        Dtype::F64 => Some(
            bytes
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                .collect(),
        ),
        Dtype::F32 => Some(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64)
                .collect(),
        ),
        _ => None,
    }
}

fn read(path: &Path) -> Result<Vec<u8>, NetsError> {
    std::fs::read(path).map_err(|source| NetsError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `bytes` to `path.tmp`, flushes it to disk, then renames it over `path`; on failure
/// the temporary file is removed and `path` is left as it was.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), NetsError> {
    use std::io::Write as _;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let written = std::fs::File::create(&tmp)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    written.map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        NetsError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Arch;

    fn spec() -> NetSpec {
        NetSpec {
            arch: Arch::FcTanh,
            input_shape: [1, 1, 3],
            outputs: 2,
            depth: 1,
            width: 4,
            bias: true,
        }
    }

    #[test]
    fn checkpoint_round_trips_with_torch_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.safetensors");
        let spec = spec();
        let params = spec.init(1.0, 3);
        let state = TrainState {
            spec: spec.clone(),
            step: 17,
            params: params.clone(),
            velocity: Some(spec.init(0.5, 4)),
        };
        save_checkpoint(&path, &state, Some(Loss::Mse), Precision::F64).unwrap();

        let bytes = std::fs::read(&path).unwrap();
        let tensors = SafeTensors::deserialize(&bytes).unwrap();
        // torch's nn.Linear(3, 4).weight is [4, 3]; burn holds [3, 4]
        let w = tensors.tensor("layers.0.weight").unwrap();
        assert_eq!(w.shape(), &[4, 3]);
        let stored = decode(w.dtype(), w.data()).unwrap();
        // torch W[o][i] = burn W[i][o]
        assert_eq!(stored[2 * 3 + 1], params[0][4 + 2]);

        let loaded = load_checkpoint(&path).unwrap();
        assert_eq!(loaded.state, state);
        assert_eq!(loaded.loss, Some(Loss::Mse));
    }

    #[test]
    fn non_safetensors_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.safetensors");
        std::fs::write(&path, b"hello, not a tensor file").unwrap();
        let err = load_checkpoint(&path).unwrap_err().to_string();
        assert!(err.contains("not a safetensors file"), "{err}");
    }
}
