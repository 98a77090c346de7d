//! Every model's forward pass and loss written once more, as a backend-generic function of
//! burn's primitive ops (matmul plus broadcast bias, conv2d, tanh, ReLU, ELU, pooling by
//! reshape and `max_dim`). Instantiated on `Autodiff<B>` it gives the gradient; on
//! `Autodiff<Autodiff<B>>` it gives exact Hessian-vector products, which burn's fused `linear`
//! and pooling ops cannot (they panic when differentiated twice).
//!
//! Parameters come as one tensor per [`crate::ParamSpec`], in flat order; they are the same
//! tensors the burn modules of [`crate::model`] hold (a test checks loss and gradient agree).
//! The CNNs pool before their activation where the modules pool after it: for a monotone
//! activation the two are the same function, and pooling first computes a quarter of the
//! activations.
//!
//! # Limitations
//!
//! ELU's second derivative is taken from eˣ on the negative side and 0 on the positive side,
//! so the Hessian is exact away from x = 0 (the kink of ReLU and ELU has measure zero).

use burn_backend::{Backend, Scalar, Shape, TensorMetadata, ops::ConvOptions, tensor::FloatTensor};

use crate::{Activation, Arch, NetSpec};

/// Applies the activation elementwise.
pub fn activate<B: Backend>(activation: Activation, h: FloatTensor<B>) -> FloatTensor<B> {
    match activation {
        Activation::Identity => h,
        Activation::Tanh => B::float_tanh(h),
        Activation::Relu => B::relu(h),
        Activation::Elu => {
            // elu(x) = relu(x) + exp(min(x, 0)) − 1
            let negative = B::float_exp(B::float_clamp_max(h.clone(), Scalar::from(0.0)));
            B::float_add(B::relu(h), B::float_sub_scalar(negative, Scalar::from(1.0)))
        }
    }
}

/// `h · W + b` with W of shape [d_in, d_out] and b broadcast over the rows.
fn dense<B: Backend>(
    h: FloatTensor<B>,
    weight: &FloatTensor<B>,
    bias: Option<&FloatTensor<B>>,
) -> FloatTensor<B> {
    let out = B::float_matmul(h, weight.clone());
    match bias {
        Some(bias) => {
            let d_out = bias.shape().num_elements();
            B::float_add(out, B::float_reshape(bias.clone(), Shape::new([1, d_out])))
        }
        None => out,
    }
}

/// 2×2 max-pooling with stride 2, as reshape + two `max_dim`s (differentiable twice).
fn max_pool_2x2<B: Backend>(h: FloatTensor<B>) -> FloatTensor<B> {
    let dims = h.shape();
    let (n, c, height, width) = (dims[0], dims[1], dims[2], dims[3]);
    let blocks = B::float_reshape(h, Shape::new([n, c, height / 2, 2, width / 2, 2]));
    let pooled = B::float_max_dim(B::float_max_dim(blocks, 5), 3); // [n, c, h/2, 1, w/2, 1]
    B::float_reshape(pooled, Shape::new([n, c, height / 2, width / 2]))
}

/// The network output f(x) for a batch x of shape [n, d]; returns [n, k].
pub fn forward<B: Backend>(
    spec: &NetSpec,
    x: FloatTensor<B>,
    params: &[FloatTensor<B>],
) -> FloatTensor<B> {
    let n = x.shape()[0];
    match spec.arch {
        Arch::Minimalist => {
            let d = spec.input_dim();
            let u = B::float_reshape(params[0].clone(), Shape::new([d, 1]));
            let mut out = B::float_matmul(x, u); // [n, 1]
            for i in 0..spec.depth - 1 {
                let vi = B::float_slice(params[1].clone(), &[burn_backend::Slice::from(i..i + 1)]);
                out = B::float_mul(out, B::float_reshape(vi, Shape::new([1, 1])));
            }
            out
        }
        Arch::CnnRelu | Arch::CnnTanh => {
            let activation = spec.arch.activation();
            let [c, h, w] = spec.input_shape;
            let options = || ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
            let step = if spec.bias { 2 } else { 1 };
            let bias = |i: usize| spec.bias.then(|| params[i + 1].clone());

            let mut out = B::float_reshape(x, Shape::new([n, c, h, w]));
            for layer in 0..2 {
                let weight = params[layer * step].clone();
                out = B::conv2d(out, weight, bias(layer * step), options()); // [n, 32, h', w']
                // Pool, then activate: both activations are monotone, so this is the same
                // function as Cohen's activate-then-pool, with 4x fewer activations to compute.
                out = activate::<B>(activation, max_pool_2x2::<B>(out)); // [n, 32, h'/2, w'/2]
            }
            let flat = out.shape().num_elements() / n;
            let out = B::float_reshape(out, Shape::new([n, flat])); // [n, 32·h/4·w/4]
            let head = 2 * step;
            dense::<B>(out, &params[head], spec.bias.then(|| &params[head + 1]))
        }
        _ => {
            let activation = spec.arch.activation();
            let step = if spec.bias { 2 } else { 1 };
            let mut h = x;
            for layer in 0..=spec.depth {
                let weight = &params[layer * step];
                let bias = spec.bias.then(|| &params[layer * step + 1]);
                h = dense::<B>(h, weight, bias); // [n, width] or [n, k]
                if layer < spec.depth {
                    h = activate::<B>(activation, h);
                }
            }
            h
        }
    }
}
