//! Backend and precision chosen at run time, and the two crossings between host vectors
//! (`Vec<f64>`, what the rest of sharplab speaks) and device tensors.
//!
//! `cpu` is burn-flex (pure Rust, multi-threaded, f32 and f64). `wgpu` exists only in builds
//! with the cargo feature `wgpu`; elsewhere asking for it is an error that says how to rebuild.
//!
//! # Limitations
//!
//! The wgpu path is compiled only with `--features wgpu` (a 30-minute build) and is not
//! exercised by the default test suite. Whether it offers f64 depends on the adapter.

use burn_backend::{Backend, DType, FloatDType, TensorData, read_sync, tensor::FloatTensor};
use serde::{Deserialize, Serialize};

use crate::NetsError;

/// Which burn backend runs the tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// burn-flex on the CPU.
    #[default]
    Cpu,
    /// burn-wgpu (GPU, or the CPU through a Vulkan driver such as lavapipe).
    Wgpu,
}

impl BackendKind {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Wgpu => "wgpu",
        }
    }
}

impl std::str::FromStr for BackendKind {
    type Err = NetsError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "cpu" | "flex" => Ok(Self::Cpu),
            "wgpu" => Ok(Self::Wgpu),
            _ => Err(NetsError::UnknownBackend(name.to_string())),
        }
    }
}

/// Floating-point precision of every tensor of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    #[default]
    F32,
    F64,
}

impl Precision {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F64 => "f64",
        }
    }

    /// burn's dtype for it.
    pub fn dtype(self) -> DType {
        match self {
            Self::F32 => DType::F32,
            Self::F64 => DType::F64,
        }
    }

    /// burn's float dtype for it.
    pub fn float_dtype(self) -> FloatDType {
        match self {
            Self::F32 => FloatDType::F32,
            Self::F64 => FloatDType::F64,
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = NetsError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "f32" => Ok(Self::F32),
            "f64" => Ok(Self::F64),
            _ => Err(NetsError::UnknownPrecision(name.to_string())),
        }
    }
}

/// Errors out when `backend` cannot hold `precision` on `device`.
pub fn check_precision<B: Backend>(
    backend: BackendKind,
    precision: Precision,
    device: &B::Device,
) -> Result<(), NetsError> {
    if B::supports_dtype(device, precision.dtype()) {
        Ok(())
    } else {
        Err(NetsError::PrecisionUnsupported {
            backend: backend.name(),
            precision: precision.name(),
        })
    }
}

/// A device tensor of the given shape holding `values` (row-major) in `precision`.
pub fn upload<B: Backend>(
    values: &[f64],
    shape: &[usize],
    precision: Precision,
    device: &B::Device,
) -> FloatTensor<B> {
    let data = match precision {
        Precision::F64 => TensorData::new(values.to_vec(), shape.to_vec()),
        Precision::F32 => TensorData::new(
            values.iter().map(|&v| v as f32).collect::<Vec<f32>>(),
            shape.to_vec(),
        ),
    };
    B::float_from_data(data, device)
}

/// The tensor's values, row-major, as f64 on the host.
pub fn download<B: Backend>(tensor: FloatTensor<B>) -> Result<Vec<f64>, NetsError> {
    let data = read_sync(B::float_into_data(tensor))
        .map_err(|err| NetsError::Backend(format!("reading a tensor back failed: {err}")))?;
    data.try_into_vec_as::<f64>()
        .map_err(|err| NetsError::Backend(format!("converting a tensor failed: {err:?}")))
}

/// The single value of a one-element tensor.
pub fn download_scalar<B: Backend>(tensor: FloatTensor<B>) -> Result<f64, NetsError> {
    let values = download::<B>(tensor)?;
    values
        .first()
        .copied()
        .ok_or_else(|| NetsError::Backend("expected a one-element tensor, got none".into()))
}

/// Runs `$body` with `$B` bound to the backend type `$kind` names and `$device` to its default
/// device, after checking it supports `$precision`. Errors when the backend is not compiled in.
macro_rules! dispatch {
    ($kind:expr, $precision:expr, |$B:ident, $device:ident| $body:expr) => {{
        match $kind {
            $crate::BackendKind::Cpu => {
                type $B = burn_flex::Flex;
                let $device = burn_flex::FlexDevice;
                $crate::backend::check_precision::<$B>($kind, $precision, &$device)?;
                $body
            }
            $crate::BackendKind::Wgpu => {
                #[cfg(feature = "wgpu")]
                {
                    type $B = burn::backend::Wgpu;
                    let $device: <$B as burn_backend::BackendTypes>::Device = Default::default();
                    $crate::backend::check_precision::<$B>($kind, $precision, &$device)?;
                    $body
                }
                #[cfg(not(feature = "wgpu"))]
                {
                    Err($crate::NetsError::BackendNotBuilt)
                }
            }
        }
    }};
}
pub(crate) use dispatch;
