//! A network, a loss and a data set held on a device: the loss, its gradient and exact
//! Hessian-vector products at any parameter vector θ, each accumulated over chunks of examples
//! so memory stays bounded (default chunks of 1,000).
//!
//! Parameters are `Vec<FloatTensor<B>>`, one tensor per [`crate::ParamSpec`] in flat order,
//! living on the device; they never visit the host inside a training step. Gradients use
//! `Autodiff<B>`; exact HVPs Hv = ∇⟨∇L(θ), v⟩ use `Autodiff<Autodiff<B>>` (double backward).
//! The central difference (∇L(θ + εv) − ∇L(θ − εv))/2ε is kept as a fallback and a check.
//!
//! # Limitations
//!
//! An exact HVP costs about 2.6 gradients and keeps one chunk's second-order graph in memory;
//! lower the chunk size for large CNN chunks in f64.

use burn_autodiff::Autodiff;
use burn_backend::{
    AutodiffBackend, Backend, Scalar, TensorData, TensorMetadata, ops::FloatTensorOps,
    tensor::FloatTensor,
};

use crate::backend::{download, download_scalar, upload};
use crate::loss::{Loss, batch_loss, predicted_classes};
use crate::primitive::forward;
use crate::{Dataset, NetSpec, NetsError, Precision};

type Ad<B> = Autodiff<B>;
type Ad2<B> = Autodiff<Autodiff<B>>;

/// Parameters on the device, one tensor per parameter spec, in flat order.
pub type DeviceParams<B> = Vec<FloatTensor<B>>;

/// Loss and accuracy over a set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// The mean loss.
    pub loss: f64,
    /// Fraction of examples whose predicted class matches the target's.
    pub accuracy: f64,
}

/// One contiguous slice of the examples.
struct Chunk<B: Backend> {
    x: FloatTensor<B>, // [n_c, d]
    y: FloatTensor<B>, // [n_c, k]
    start: usize,
}

/// A model, loss and data set on a device.
pub struct Problem<B: Backend> {
    spec: NetSpec,
    loss: Loss,
    precision: Precision,
    device: B::Device,
    n: usize,
    x: FloatTensor<B>, // [N, d]
    y: FloatTensor<B>, // [N, k]
    chunks: Vec<Chunk<B>>,
    labels: Vec<usize>,
}

impl<B: Backend> Problem<B> {
    /// Copies `data` to `device` once, split into chunks of at most `chunk_size` examples.
    pub fn new(
        spec: &NetSpec,
        loss: Loss,
        data: &Dataset,
        chunk_size: usize,
        precision: Precision,
        device: &B::Device,
    ) -> Result<Self, NetsError> {
        spec.validate()?;
        if data.input_dim() != spec.input_dim() || data.outputs != spec.outputs {
            return Err(NetsError::InvalidData(format!(
                "examples of shape {:?} with {} targets do not fit a {} net built for {:?} and \
                 {} outputs",
                data.input_shape, data.outputs, spec.arch, spec.input_shape, spec.outputs
            )));
        }
        if data.is_empty() {
            return Err(NetsError::InvalidData(
                "no examples: a loss needs at least one".to_string(),
            ));
        }
        if chunk_size == 0 {
            return Err(NetsError::config(
                "chunk size",
                0,
                "use 1 or more (default 1000)",
            ));
        }
        if loss == Loss::CrossEntropy && spec.outputs < 2 {
            return Err(NetsError::config(
                "loss",
                "ce",
                "cross-entropy needs two or more classes: use --loss mse for ±1 targets",
            ));
        }

        let n = data.len();
        let (d, k) = (data.input_dim(), data.outputs);
        let x = upload::<B>(&data.x, &[n, d], precision, device);
        let y = upload::<B>(&data.y, &[n, k], precision, device);
        let chunks = (0..n)
            .step_by(chunk_size)
            .map(|start| {
                let end = (start + chunk_size).min(n);
                Chunk {
                    x: B::float_slice(x.clone(), &[(start..end).into()]),
                    y: B::float_slice(y.clone(), &[(start..end).into()]),
                    start,
                }
            })
            .collect();
        Ok(Self {
            spec: spec.clone(),
            loss,
            precision,
            device: device.clone(),
            n,
            x,
            y,
            chunks,
            labels: data.labels(),
        })
    }

    /// Number of examples N.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the set is empty (never: [`Problem::new`] rejects it).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The network this problem trains.
    pub fn spec(&self) -> &NetSpec {
        &self.spec
    }

    /// The precision of every tensor.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The device holding the data.
    pub fn device(&self) -> &B::Device {
        &self.device
    }

    /// Host parameter vectors (flat order) to device tensors, checking their sizes.
    pub fn upload_params(&self, params: &[Vec<f64>]) -> Result<DeviceParams<B>, NetsError> {
        self.spec.check_params(params)?;
        Ok(self
            .spec
            .params()
            .iter()
            .zip(params)
            .map(|(spec, values)| upload::<B>(values, &spec.shape, self.precision, &self.device))
            .collect())
    }

    /// Device tensors to host vectors.
    pub fn download_params(&self, params: &DeviceParams<B>) -> Result<Vec<Vec<f64>>, NetsError> {
        params.iter().map(|p| download::<B>(p.clone())).collect()
    }

    /// Splits one flat host vector of length P into device tensors, one per parameter.
    pub fn upload_flat(&self, flat: &[f64]) -> Result<DeviceParams<B>, NetsError> {
        let specs = self.spec.params();
        let total: usize = specs.iter().map(|s| s.len()).sum();
        if flat.len() != total {
            return Err(NetsError::ShapeMismatch {
                name: "flat parameter vector".into(),
                expected: vec![total],
                found: vec![flat.len()],
                fix: "give one value per network parameter",
            });
        }
        let mut offset = 0;
        Ok(specs
            .iter()
            .map(|spec| {
                let part = &flat[offset..offset + spec.len()];
                offset += spec.len();
                upload::<B>(part, &spec.shape, self.precision, &self.device)
            })
            .collect())
    }

    /// Loss and accuracy at θ, without gradients.
    pub fn evaluate(&self, params: &DeviceParams<B>) -> Result<Evaluation, NetsError> {
        let mut loss = 0.0;
        let mut correct = 0;
        for chunk in &self.chunks {
            let output = forward::<B>(&self.spec, chunk.x.clone(), params);
            correct += self.count_correct(output.clone(), chunk.start)?;
            let chunk_loss = batch_loss::<B>(self.loss, output, chunk.y.clone(), self.n);
            loss += download_scalar::<B>(chunk_loss)?;
        }
        Ok(Evaluation {
            loss,
            accuracy: correct as f64 / self.n as f64,
        })
    }

    /// Loss, accuracy and gradient ∇L(θ) over the whole set, from one forward pass per chunk.
    pub fn loss_and_gradient(
        &self,
        params: &DeviceParams<B>,
    ) -> Result<(Evaluation, DeviceParams<B>), NetsError> {
        let mut loss = 0.0;
        let mut correct = 0;
        let mut gradient: Option<DeviceParams<B>> = None;
        for chunk in &self.chunks {
            let leaves = leaves::<B>(params);
            let output =
                forward::<Ad<B>>(&self.spec, Ad::<B>::from_inner(chunk.x.clone()), &leaves);
            correct += self.count_correct(Ad::<B>::inner(output.clone()), chunk.start)?;
            let targets = Ad::<B>::from_inner(chunk.y.clone());
            let chunk_loss = batch_loss::<Ad<B>>(self.loss, output, targets, self.n);
            loss += download_scalar::<B>(Ad::<B>::inner(chunk_loss.clone()))?;

            let grads = Ad::<B>::backward(chunk_loss);
            let chunk_gradient = self.collect::<Ad<B>>(&leaves, &grads);
            gradient = Some(accumulate::<B>(gradient, chunk_gradient));
        }
        let evaluation = Evaluation {
            loss,
            accuracy: correct as f64 / self.n as f64,
        };
        Ok((evaluation, gradient.unwrap_or_else(|| self.zeros())))
    }

    /// Mean loss and its gradient over the examples at `indices` (a mini-batch).
    pub fn batch_loss_and_gradient(
        &self,
        params: &DeviceParams<B>,
        indices: &[usize],
    ) -> Result<(f64, DeviceParams<B>), NetsError> {
        let index_values: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let index_tensor =
            B::int_from_data(TensorData::new(index_values, [indices.len()]), &self.device);
        let x = B::float_select(self.x.clone(), 0, index_tensor.clone()); // [B, d]
        let y = B::float_select(self.y.clone(), 0, index_tensor); // [B, k]

        let leaves = leaves::<B>(params);
        let output = forward::<Ad<B>>(&self.spec, Ad::<B>::from_inner(x), &leaves);
        let batch = batch_loss::<Ad<B>>(self.loss, output, Ad::<B>::from_inner(y), indices.len());
        let loss = download_scalar::<B>(Ad::<B>::inner(batch.clone()))?;
        let grads = Ad::<B>::backward(batch);
        Ok((loss, self.collect::<Ad<B>>(&leaves, &grads)))
    }

    /// The exact Hessian-vector product ∇²L(θ)·v over the whole set (double backward).
    pub fn hvp(&self, params: &DeviceParams<B>, v: &DeviceParams<B>) -> DeviceParams<B> {
        let mut product: Option<DeviceParams<B>> = None;
        for chunk in &self.chunks {
            // inner leaves record the first backward; outer leaves are what it differentiates
            let inner = leaves::<B>(params);
            let outer = leaves::<Ad<B>>(&inner);
            let x = Ad2::<B>::from_inner(Ad::<B>::from_inner(chunk.x.clone()));
            let y = Ad2::<B>::from_inner(Ad::<B>::from_inner(chunk.y.clone()));
            let output = forward::<Ad2<B>>(&self.spec, x, &outer);
            let grads = Ad2::<B>::backward(batch_loss::<Ad2<B>>(self.loss, output, y, self.n));

            // ⟨∇L_chunk, v⟩, still differentiable in the inner leaves
            let mut directional: Option<FloatTensor<Ad<B>>> = None;
            for (leaf, direction) in outer.iter().zip(v) {
                if let Some(gradient) = Ad2::<B>::grad(leaf, &grads) {
                    let term = Ad::<B>::float_sum(Ad::<B>::float_mul(
                        gradient,
                        Ad::<B>::from_inner(direction.clone()),
                    ));
                    directional = Some(match directional {
                        Some(sum) => Ad::<B>::float_add(sum, term),
                        None => term,
                    });
                }
            }
            let Some(directional) = directional else {
                continue;
            };
            let second = Ad::<B>::backward(directional);
            let chunk_product = self.collect::<Ad<B>>(&inner, &second);
            product = Some(accumulate::<B>(product, chunk_product));
        }
        product.unwrap_or_else(|| self.zeros())
    }

    /// The central-difference HVP (∇L(θ + εv) − ∇L(θ − εv))/2ε, with absolute step ε.
    pub fn hvp_finite_difference(
        &self,
        params: &DeviceParams<B>,
        v: &DeviceParams<B>,
        epsilon: f64,
    ) -> Result<DeviceParams<B>, NetsError> {
        let shifted = |sign: f64| -> DeviceParams<B> {
            params
                .iter()
                .zip(v)
                .map(|(p, d)| {
                    B::float_add(
                        p.clone(),
                        B::float_mul_scalar(d.clone(), Scalar::from(sign * epsilon)),
                    )
                })
                .collect()
        };
        let (_, plus) = self.loss_and_gradient(&shifted(1.0))?;
        let (_, minus) = self.loss_and_gradient(&shifted(-1.0))?;
        Ok(plus
            .into_iter()
            .zip(minus)
            .map(|(a, b)| B::float_mul_scalar(B::float_sub(a, b), Scalar::from(0.5 / epsilon)))
            .collect())
    }

    /// Zero tensors shaped like the parameters.
    pub fn zeros(&self) -> DeviceParams<B> {
        self.spec
            .params()
            .iter()
            .map(|spec| {
                B::float_zeros(
                    spec.shape.clone().into(),
                    &self.device,
                    self.precision.float_dtype(),
                )
            })
            .collect()
    }

    /// The gradient of each leaf, zero where the loss does not reach it.
    fn collect<A: AutodiffBackend<InnerBackend = B>>(
        &self,
        leaves: &[FloatTensor<A>],
        grads: &A::Gradients,
    ) -> DeviceParams<B> {
        leaves
            .iter()
            .map(|leaf| {
                A::grad(leaf, grads).unwrap_or_else(|| {
                    B::float_zeros(leaf.shape(), &self.device, self.precision.float_dtype())
                })
            })
            .collect()
    }

    /// How many rows of `output` (the chunk starting at `start`) predict their label.
    fn count_correct(&self, output: FloatTensor<B>, start: usize) -> Result<usize, NetsError> {
        let values = download::<B>(output)?;
        let predicted = predicted_classes(&values, self.spec.outputs);
        Ok(predicted
            .iter()
            .zip(&self.labels[start..])
            .filter(|(p, l)| p == l)
            .count())
    }
}

/// Fresh autodiff leaves (requiring gradients) holding `params`.
fn leaves<B: Backend>(params: &[FloatTensor<B>]) -> Vec<FloatTensor<Ad<B>>> {
    params
        .iter()
        .map(|p| Ad::<B>::float_set_require_grad(Ad::<B>::from_inner(p.clone()), true))
        .collect()
}

/// `total + part`, elementwise per tensor.
fn accumulate<B: Backend>(
    total: Option<DeviceParams<B>>,
    part: DeviceParams<B>,
) -> DeviceParams<B> {
    match total {
        None => part,
        Some(total) => total
            .into_iter()
            .zip(part)
            .map(|(a, b)| B::float_add(a, b))
            .collect(),
    }
}
