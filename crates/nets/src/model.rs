//! The networks as burn modules, the way a burn user writes them: a `Config` with its
//! defaults beside each field, an `init`, and a short `forward`. They hold the same parameters,
//! in the same `Module::visit` order, as [`crate::arch::NetSpec::params`] lists, and
//! [`Network::from_params`] / [`Network::to_params`] move those between the module and host
//! vectors. Training and Hessian-vector products run on [`crate::primitive`] instead (burn's
//! fused ops cannot be differentiated twice); the tests check both compute the same loss and
//! gradient.
//!
//! # Limitations
//!
//! `init` draws from burn's device RNG; reproducible runs initialise through
//! [`crate::arch::NetSpec::init`] and [`Network::from_params`] instead.

use burn::config::Config;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor, TensorData, activation};

use crate::{Activation, Arch, NetSpec, NetsError, Precision};

/// Applies `activation` to a tensor of any rank.
fn activate<const D: usize>(activation: Activation, x: Tensor<D>) -> Tensor<D> {
    match activation {
        Activation::Identity => x,
        Activation::Tanh => activation::tanh(x),
        Activation::Relu => activation::relu(x),
        Activation::Elu => activation::elu(x, 1.0),
    }
}

/// A fully connected network: `depth` hidden layers of `width` units.
#[derive(Config, Debug)]
pub struct MlpConfig {
    /// Input dimension d.
    pub d_input: usize,
    /// Outputs k.
    pub d_output: usize,
    /// Hidden layers.
    #[config(default = 2)]
    pub depth: usize,
    /// Units per hidden layer.
    #[config(default = 200)]
    pub width: usize,
    /// Nonlinearity between layers.
    #[config(default = "Activation::Tanh")]
    pub activation: Activation,
    /// Biases in every layer.
    #[config(default = true)]
    pub bias: bool,
}

/// The fully connected network.
#[derive(Module, Debug)]
pub struct Mlp {
    pub layers: Vec<Linear>,
    #[module(skip)]
    pub activation: Activation,
}

impl MlpConfig {
    /// Builds it with PyTorch's default init (uniform ±1/√fan_in).
    pub fn init(&self, device: &Device) -> Mlp {
        let mut widths = vec![self.d_input];
        widths.extend(std::iter::repeat_n(self.width, self.depth));
        widths.push(self.d_output);
        let layers = widths
            .windows(2)
            .map(|pair| {
                LinearConfig::new(pair[0], pair[1])
                    .with_bias(self.bias)
                    .init(device)
            })
            .collect();
        Mlp {
            layers,
            activation: self.activation,
        }
    }
}

impl Mlp {
    /// [n, d] → [n, k].
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h); // [n, width] or [n, k]
            if i < last {
                h = activate(self.activation, h);
            }
        }
        h
    }
}

/// Cohen et al.'s CNN for C×H×W images.
#[derive(Config, Debug)]
pub struct CnnConfig {
    /// Input channels C.
    pub channels: usize,
    /// Image height H (divisible by 4).
    pub height: usize,
    /// Image width W (divisible by 4).
    pub width: usize,
    /// Classes k.
    pub d_output: usize,
    /// Nonlinearity after each convolution.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Biases in every layer.
    #[config(default = true)]
    pub bias: bool,
}

/// conv(3×3, 32) → act → pool(2) → conv(3×3, 32) → act → pool(2) → flatten → linear.
#[derive(Module, Debug)]
pub struct Cnn {
    pub conv1: Conv2d,
    pub conv2: Conv2d,
    pub pool: MaxPool2d,
    pub head: Linear,
    #[module(skip)]
    pub activation: Activation,
    /// Image shape [C, H, W].
    #[module(skip)]
    pub input_shape: [usize; 3],
}

impl CnnConfig {
    /// Builds it with PyTorch's default init.
    pub fn init(&self, device: &Device) -> Cnn {
        let c = crate::arch::CNN_CHANNELS;
        let conv = |c_in: usize| {
            Conv2dConfig::new([c_in, c], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(self.bias)
                .init(device)
        };
        let flat = c * (self.height / 4) * (self.width / 4);
        Cnn {
            conv1: conv(self.channels),
            conv2: conv(c),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            head: LinearConfig::new(flat, self.d_output)
                .with_bias(self.bias)
                .init(device),
            activation: self.activation,
            input_shape: [self.channels, self.height, self.width],
        }
    }
}

impl Cnn {
    /// [n, C, H, W] → [n, k].
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let h = self
            .pool
            .forward(activate(self.activation, self.conv1.forward(x))); // [n, 32, H/2, W/2]
        let h = self
            .pool
            .forward(activate(self.activation, self.conv2.forward(h))); // [n, 32, H/4, W/4]
        self.head.forward(h.flatten::<2>(1, 3)) // [n, k]
    }
}

/// The minimalist model f(x) = (xᵀu)·v₁⋯v_{D−1}.
#[derive(Config, Debug)]
pub struct MinimalistConfig {
    /// Input dimension d.
    pub d_input: usize,
    /// Depth D ≥ 2 (u plus D − 1 scalars).
    #[config(default = 2)]
    pub depth: usize,
}

/// The minimalist model's parameters.
#[derive(Module, Debug)]
pub struct MinimalistNet {
    /// u ∈ ℝᵈ.
    pub u: Param<Tensor<1>>,
    /// v₁..v_{D−1}.
    pub v: Param<Tensor<1>>,
}

impl MinimalistConfig {
    /// u uniform in ±1/√d, every vᵢ = 1.
    pub fn init(&self, device: &Device) -> MinimalistNet {
        let bound = 1.0 / (self.d_input as f64).sqrt();
        let u = Tensor::random(
            [self.d_input],
            burn::tensor::Distribution::Uniform(-bound, bound),
            device,
        );
        MinimalistNet {
            u: Param::from_tensor(u),
            v: Param::from_tensor(Tensor::ones([self.depth - 1], device)),
        }
    }
}

impl MinimalistNet {
    /// [n, d] → [n, 1].
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let [d] = self.u.dims();
        let z = x.matmul(self.u.val().reshape([d, 1])); // [n, 1]
        z.mul(self.v.val().prod().reshape([1, 1]))
    }
}

/// Any of the networks.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per run, never in a collection
pub enum Network {
    Mlp(Mlp),
    Cnn(Cnn),
    Minimalist(MinimalistNet),
}

impl Network {
    /// The module for `spec`, with freshly drawn parameters.
    pub fn init(spec: &NetSpec, device: &Device) -> Self {
        let [c, h, w] = spec.input_shape;
        match spec.arch {
            Arch::Minimalist => Self::Minimalist(
                MinimalistConfig::new(spec.input_dim())
                    .with_depth(spec.depth)
                    .init(device),
            ),
            Arch::CnnRelu | Arch::CnnTanh => Self::Cnn(
                CnnConfig::new(c, h, w, spec.outputs)
                    .with_activation(spec.arch.activation())
                    .with_bias(spec.bias)
                    .init(device),
            ),
            _ => Self::Mlp(
                MlpConfig::new(spec.input_dim(), spec.outputs)
                    .with_depth(spec.depth)
                    .with_width(spec.width)
                    .with_activation(spec.arch.activation())
                    .with_bias(spec.bias)
                    .init(device),
            ),
        }
    }

    /// The module for `spec` holding `params` (flat order), in `precision`.
    pub fn from_params(
        spec: &NetSpec,
        params: &[Vec<f64>],
        precision: Precision,
        device: &Device,
    ) -> Result<Self, NetsError> {
        spec.check_params(params)?;
        let mut loader = Loader {
            params,
            specs: spec.params(),
            index: 0,
            precision,
        };
        Ok(match Self::init(spec, device) {
            Self::Mlp(m) => Self::Mlp(m.map(&mut loader)),
            Self::Cnn(m) => Self::Cnn(m.map(&mut loader)),
            Self::Minimalist(m) => Self::Minimalist(m.map(&mut loader)),
        })
    }

    /// The parameters, one host vector per tensor in `Module::visit` order.
    pub fn to_params(&self) -> Vec<Vec<f64>> {
        let mut collector = Collector { params: Vec::new() };
        self.visit(&mut collector);
        collector.params
    }

    /// The shape of each parameter tensor, in `Module::visit` order.
    pub fn param_shapes(&self) -> Vec<Vec<usize>> {
        let mut shapes = ShapeCollector { shapes: Vec::new() };
        self.visit(&mut shapes);
        shapes.shapes
    }

    /// Walks every float parameter in order.
    pub fn visit<V: ModuleVisitor>(&self, visitor: &mut V) {
        match self {
            Self::Mlp(m) => m.visit(visitor),
            Self::Cnn(m) => m.visit(visitor),
            Self::Minimalist(m) => m.visit(visitor),
        }
    }

    /// f(x) for x of shape [n, d] (images CHW-flattened); [n, k].
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Mlp(m) => m.forward(x),
            Self::Minimalist(m) => m.forward(x),
            Self::Cnn(m) => {
                let [n, _] = x.dims();
                let [c, h, w] = m.input_shape;
                m.forward(x.reshape([n, c, h, w])) // [n, C, H, W] → [n, k]
            }
        }
    }
}

/// Loads host vectors into a module's parameters, in visit order.
struct Loader<'a> {
    params: &'a [Vec<f64>],
    specs: Vec<crate::ParamSpec>,
    index: usize,
    precision: Precision,
}

impl ModuleMapper for Loader<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let values = &self.params[self.index];
        let shape = self.specs[self.index].shape.clone();
        self.index += 1;
        let precision = self.precision;
        param.map(|tensor| {
            let device = tensor.device();
            let data = match precision {
                Precision::F64 => TensorData::new(values.clone(), shape),
                Precision::F32 => {
                    TensorData::new(values.iter().map(|&v| v as f32).collect::<Vec<_>>(), shape)
                }
            };
            // the dtype is explicit: the device's default float type may be f32
            let tensor = Tensor::from_data(data, (&device, precision.dtype()));
            // a fresh leaf: on an autodiff device it must ask for its gradient again
            if device.is_autodiff() {
                tensor.require_grad()
            } else {
                tensor
            }
        })
    }
}

/// Reads every parameter to the host.
struct Collector {
    params: Vec<Vec<f64>>,
}

impl ModuleVisitor for Collector {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let data = param.val().into_data();
        self.params
            .push(data.try_into_vec_as::<f64>().unwrap_or_default());
    }
}

/// Records every parameter's shape.
struct ShapeCollector {
    shapes: Vec<Vec<usize>>,
}

impl ModuleVisitor for ShapeCollector {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.shapes.push(param.val().dims().to_vec());
    }
}
