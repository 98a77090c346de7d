//! The architectures sharplab trains, described as data: which layers, which parameter tensors
//! in which order, and how they are initialised. Everything else (the burn modules, the
//! primitive loss used for Hessian-vector products, checkpoints) reads its layout from here, so
//! the flat parameter order is defined once.
//!
//! Notation: input x ∈ ℝᵈ with d = C·H·W (images are CHW, row-major), k outputs, N examples.
//! For the fully connected nets `depth` counts hidden layers (`fc-tanh --depth 2 --width 200`
//! on CIFAR-10 is 3072-200-200-10); for the minimalist model it is the paper's D (u ∈ ℝᵈ and
//! the scalars v₁..v_{D−1}, output f = (xᵀu)·∏vᵢ).
//!
//! Parameter order is burn's `Module::visit` order: layer by layer, weight then bias. Linear
//! weights are stored as burn does, [d_in, d_out]; checkpoints transpose them to PyTorch's
//! [d_out, d_in] (see `checkpoint`).
//!
//! # Limitations
//!
//! The CNNs need H and W divisible by 4 (two 2×2 poolings). The minimalist model has a single
//! output, so it is trained with MSE on ±1 (or any scalar) targets only.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::NetsError;

/// A network family, by its command-line name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arch {
    /// Deep linear network (identity activation).
    FcLinear,
    FcTanh,
    FcRelu,
    FcElu,
    /// Cohen et al.'s CNN: two 3×3 convolutions (32 channels, padding 1), each followed by
    /// ReLU and 2×2 max-pooling, then a linear layer.
    CnnRelu,
    /// The same CNN with tanh.
    CnnTanh,
    /// The minimalist model of Yoo, Song and Yun: f = (xᵀu)·v₁⋯v_{D−1}.
    Minimalist,
}

impl Arch {
    /// The accepted names, in the order of the enum.
    pub const NAMES: [&'static str; 7] = [
        "fc-linear",
        "fc-tanh",
        "fc-relu",
        "fc-elu",
        "cnn-relu",
        "cnn-tanh",
        "minimalist",
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::FcLinear => "fc-linear",
            Self::FcTanh => "fc-tanh",
            Self::FcRelu => "fc-relu",
            Self::FcElu => "fc-elu",
            Self::CnnRelu => "cnn-relu",
            Self::CnnTanh => "cnn-tanh",
            Self::Minimalist => "minimalist",
        }
    }

    /// The activation between layers (identity for the linear net and the minimalist model).
    pub fn activation(self) -> Activation {
        match self {
            Self::FcLinear | Self::Minimalist => Activation::Identity,
            Self::FcTanh | Self::CnnTanh => Activation::Tanh,
            Self::FcRelu | Self::CnnRelu => Activation::Relu,
            Self::FcElu => Activation::Elu,
        }
    }

    /// Whether this is one of the two CNNs.
    pub fn is_cnn(self) -> bool {
        matches!(self, Self::CnnRelu | Self::CnnTanh)
    }
}

impl std::str::FromStr for Arch {
    type Err = NetsError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let all = [
            Self::FcLinear,
            Self::FcTanh,
            Self::FcRelu,
            Self::FcElu,
            Self::CnnRelu,
            Self::CnnTanh,
            Self::Minimalist,
        ];
        all.into_iter()
            .find(|arch| arch.name() == name)
            .ok_or_else(|| NetsError::UnknownArch(name.to_string()))
    }
}

/// In words, as error messages name a network: "fc-tanh, 2 hidden layers of 200, with
/// biases, on [3, 32, 32] inputs, 10 outputs".
impl std::fmt::Display for NetSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.arch)?;
        match self.arch {
            Arch::CnnRelu | Arch::CnnTanh => {}
            Arch::Minimalist => write!(f, ", D = {}", self.depth)?,
            _ => write!(f, ", {} hidden layers of {}", self.depth, self.width)?,
        }
        if self.arch != Arch::Minimalist {
            let bias = if self.bias { "with" } else { "without" };
            write!(f, ", {bias} biases")?;
        }
        write!(
            f,
            ", on {:?} inputs, {} outputs",
            self.input_shape, self.outputs
        )
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The elementwise nonlinearity between layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    Identity,
    Tanh,
    Relu,
    /// ELU with α = 1: x for x > 0, eˣ − 1 otherwise.
    Elu,
}

/// Number of channels of both CNN convolutions (Cohen et al.).
pub const CNN_CHANNELS: usize = 32;

/// A network's shape: everything needed to build its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetSpec {
    pub arch: Arch,
    /// Input shape [C, H, W]; a flat vector input is [1, 1, d].
    pub input_shape: [usize; 3],
    /// Number of outputs k (classes for cross-entropy, 1 for ±1 targets).
    pub outputs: usize,
    /// Hidden layers (fc), or the paper's D (minimalist); ignored by the CNNs.
    pub depth: usize,
    /// Hidden width (fc only).
    pub width: usize,
    /// Whether layers have biases (fc and cnn).
    pub bias: bool,
}

/// One parameter tensor: its checkpoint name, its shape as burn stores it, and its fan-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSpec {
    /// PyTorch-style name (`layers.0.weight`, `conv1.bias`, `u`).
    pub name: String,
    /// Shape as stored in the flat view (Linear weights are [d_in, d_out]).
    pub shape: Vec<usize>,
    /// Inputs feeding one output unit, for PyTorch's default init bound 1/√fan_in.
    pub fan_in: usize,
    /// Whether this is a Linear weight, stored transposed relative to PyTorch.
    pub transposed: bool,
}

impl ParamSpec {
    /// Number of scalars in the tensor.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor holds no scalars.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl NetSpec {
    /// Input dimension d = C·H·W.
    pub fn input_dim(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// Checks the sizes, naming the bad one and its fix.
    pub fn validate(&self) -> Result<(), NetsError> {
        if self.input_dim() == 0 {
            return Err(NetsError::config(
                "input shape",
                format!("{:?}", self.input_shape),
                "the data must have at least one feature",
            ));
        }
        if self.outputs == 0 {
            return Err(NetsError::config("outputs", 0, "use at least one output"));
        }
        match self.arch {
            Arch::Minimalist => {
                if self.depth < 2 {
                    return Err(NetsError::config(
                        "depth",
                        self.depth,
                        "the minimalist model needs D >= 2 (u and at least one scalar v)",
                    ));
                }
                if self.outputs != 1 {
                    return Err(NetsError::config(
                        "outputs",
                        self.outputs,
                        "the minimalist model has one output: use ±1 targets with MSE",
                    ));
                }
            }
            Arch::CnnRelu | Arch::CnnTanh => {
                let [_, h, w] = self.input_shape;
                if h % 4 != 0 || w % 4 != 0 || h == 0 || w == 0 {
                    return Err(NetsError::config(
                        "input shape",
                        format!("{:?}", self.input_shape),
                        "the CNNs need image height and width divisible by 4",
                    ));
                }
            }
            _ => {
                if self.depth > 0 && self.width == 0 {
                    return Err(NetsError::config("width", 0, "use --width 1 or more"));
                }
            }
        }
        Ok(())
    }

    /// The parameter tensors in flat (`Module::visit`) order.
    pub fn params(&self) -> Vec<ParamSpec> {
        let linear = |name: &str, d_in: usize, d_out: usize, bias: bool| {
            let mut out = vec![ParamSpec {
                name: format!("{name}.weight"),
                shape: vec![d_in, d_out],
                fan_in: d_in,
                transposed: true,
            }];
            if bias {
                out.push(ParamSpec {
                    name: format!("{name}.bias"),
                    shape: vec![d_out],
                    fan_in: d_in,
                    transposed: false,
                });
            }
            out
        };
        let conv = |name: &str, c_in: usize, c_out: usize, bias: bool| {
            let fan_in = c_in * 9;
            let mut out = vec![ParamSpec {
                name: format!("{name}.weight"),
                shape: vec![c_out, c_in, 3, 3],
                fan_in,
                transposed: false,
            }];
            if bias {
                out.push(ParamSpec {
                    name: format!("{name}.bias"),
                    shape: vec![c_out],
                    fan_in,
                    transposed: false,
                });
            }
            out
        };

        match self.arch {
            Arch::Minimalist => vec![
                ParamSpec {
                    name: "u".into(),
                    shape: vec![self.input_dim()],
                    fan_in: self.input_dim(),
                    transposed: false,
                },
                ParamSpec {
                    name: "v".into(),
                    shape: vec![self.depth - 1],
                    fan_in: 1,
                    transposed: false,
                },
            ],
            Arch::CnnRelu | Arch::CnnTanh => {
                let [c, h, w] = self.input_shape;
                let flat = CNN_CHANNELS * (h / 4) * (w / 4);
                let mut out = conv("conv1", c, CNN_CHANNELS, self.bias);
                out.extend(conv("conv2", CNN_CHANNELS, CNN_CHANNELS, self.bias));
                out.extend(linear("head", flat, self.outputs, self.bias));
                out
            }
            _ => {
                let mut widths = vec![self.input_dim()];
                widths.extend(std::iter::repeat_n(self.width, self.depth));
                widths.push(self.outputs);
                widths
                    .windows(2)
                    .enumerate()
                    .flat_map(|(layer, pair)| {
                        linear(&format!("layers.{layer}"), pair[0], pair[1], self.bias)
                    })
                    .collect()
            }
        }
    }

    /// Total number of parameters P.
    pub fn num_params(&self) -> usize {
        self.params().iter().map(ParamSpec::len).sum()
    }

    /// Initial parameters, one host vector per tensor in flat order.
    ///
    /// Networks: PyTorch's default, every weight and bias uniform in ±scale/√fan_in
    /// (`scale` = 1 is exactly `nn.Linear` / `nn.Conv2d`'s default). Minimalist model: u
    /// uniform in ±scale/√d and every vᵢ = scale. Deterministic in `seed`.
    pub fn init(&self, scale: f64, seed: u64) -> Vec<Vec<f64>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        self.params()
            .iter()
            .map(|param| {
                if self.arch == Arch::Minimalist && param.name == "v" {
                    return vec![scale; param.len()];
                }
                let bound = scale / (param.fan_in as f64).sqrt();
                (0..param.len())
                    .map(|_| rng.random_range(-bound..=bound))
                    .collect()
            })
            .collect()
    }

    /// Checks that `params` has one vector per tensor with the right lengths.
    pub fn check_params(&self, params: &[Vec<f64>]) -> Result<(), NetsError> {
        let specs = self.params();
        if specs.len() != params.len() {
            return Err(NetsError::ShapeMismatch {
                name: format!("{} parameter tensors", self.arch),
                expected: vec![specs.len()],
                found: vec![params.len()],
                fix: "build the parameters from the same architecture",
            });
        }
        for (spec, values) in specs.iter().zip(params) {
            if spec.len() != values.len() {
                return Err(NetsError::ShapeMismatch {
                    name: spec.name.clone(),
                    expected: spec.shape.clone(),
                    found: vec![values.len()],
                    fix: "build the parameters from the same architecture",
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fc(depth: usize, width: usize) -> NetSpec {
        NetSpec {
            arch: Arch::FcTanh,
            input_shape: [3, 32, 32],
            outputs: 10,
            depth,
            width,
            bias: true,
        }
    }

    #[test]
    fn fc_tanh_on_cifar_has_cohen_parameter_count() {
        // 3072·200 + 200 + 200·200 + 200 + 200·10 + 10
        assert_eq!(fc(2, 200).num_params(), 656_810);
    }

    #[test]
    fn cnn_on_cifar_has_expected_shapes() {
        let spec = NetSpec {
            arch: Arch::CnnRelu,
            ..fc(0, 0)
        };
        let shapes: Vec<_> = spec.params().into_iter().map(|p| p.shape).collect();
        assert_eq!(
            shapes,
            vec![
                vec![32, 3, 3, 3],
                vec![32],
                vec![32, 32, 3, 3],
                vec![32],
                vec![32 * 8 * 8, 10],
                vec![10]
            ]
        );
    }

    #[test]
    fn arch_names_round_trip() {
        for name in Arch::NAMES {
            assert_eq!(name.parse::<Arch>().unwrap().name(), name);
        }
        assert!("fc-sigmoid".parse::<Arch>().is_err());
    }

    #[test]
    fn width_zero_is_rejected() {
        let err = fc(2, 0).validate().unwrap_err().to_string();
        assert!(err.contains("width"), "{err}");
    }

    #[test]
    fn default_init_stays_within_pytorch_bound() {
        let spec = fc(1, 50);
        let params = spec.init(1.0, 7);
        let bound = 1.0 / 3072f64.sqrt();
        assert!(params[0].iter().all(|w| w.abs() <= bound));
        // A uniform on ±b has variance b²/3: the sample variance should be near it.
        let var = params[0].iter().map(|w| w * w).sum::<f64>() / params[0].len() as f64;
        assert!((var / (bound * bound / 3.0) - 1.0).abs() < 0.02, "{var}");
    }
}
