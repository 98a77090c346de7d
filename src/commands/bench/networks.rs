//! The network benchmarks: one full-batch GD step, one exact Hessian-vector product and one
//! sharpness estimate to a relative residual of 1e-3 (cold and warm-started, counting HVPs),
//! for a network of [`sharplab_nets`] with MSE in f32, through the same library calls
//! `sharplab train` makes ([`Problem::loss_and_gradient`], [`HessianOperator`],
//! [`estimate_sharpness`]).
//!
//! - GD step: loss, accuracy and gradient over chunks of `chunk_size` examples, then
//!   θ ← θ − η∇L, always from the same θ₀ (PyTorch's default init, seeded).
//! - HVP: the product v ↦ ∇²L(θ₀)v as the eigen-solver sees it: a flat f64 vector in, a flat
//!   f64 vector out, with both crossings to the device included.
//! - Sharpness: Lanczos from a seeded random vector at θ₀ (cold), then from that estimate's
//!   top eigenvector at θ₁, `warm_steps` GD steps later (warm), which is what training does.
//!
//! FLOPs of a GD step count the multiply-adds (×2) of the matrix products and convolutions:
//! the forward pass, the weight gradients, and the input gradients of every layer but the
//! first (the data need none). Biases, activations, pooling and the loss are left out; for
//! fc-tanh they are well under 1% of the total.
//!
//! # Limitations
//!
//! Only MSE and f32 are timed, the setting of the PyTorch comparison. The parameters are
//! PyTorch-style random init, where fc-tanh's top eigenvalues are close together; later in
//! training the gap widens and Lanczos needs fewer products.

use std::path::Path;

use anyhow::Context as _;
use burn_backend::{Backend, Scalar};
use serde_json::{Value, json};
use sharplab_nets::problem::DeviceParams;
use sharplab_nets::sharpness::HessianOperator;
use sharplab_nets::{
    Arch, Dataset, Estimator, Loss, NetSpec, Precision, Problem, SharpnessEstimate,
    SharpnessOptions, TrainState, estimate_sharpness, save_checkpoint,
};
use sharplab_spectrum::SymmetricOperator;

use super::timing::{Measurement, timed};

/// What to time, and how.
#[derive(Debug, Clone)]
pub struct NetworkSettings {
    /// The network.
    pub arch: Arch,
    /// Examples N: the first N rows of the data.
    pub examples: usize,
    /// Timed repeats of the GD step and of the HVP (each after one untimed run).
    pub repeats: usize,
    /// Cold and warm sharpness estimates, each pair with its own random start.
    pub sharpness_repeats: usize,
    /// η of the GD step.
    pub lr: f64,
    /// GD steps between the cold and the warm estimate.
    pub warm_steps: usize,
    /// Relative residual the sharpness estimates stop at.
    pub tol: f64,
    /// Most HVPs per estimate.
    pub max_hvps: usize,
    /// Examples per chunk.
    pub chunk_size: usize,
    /// Seed of θ₀ (and, plus the repeat, of the cold start).
    pub seed: u64,
}

/// Which parts of a network benchmark to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Parts {
    pub gd_step: bool,
    pub hvp: bool,
    pub sharpness: bool,
}

/// The network of `arch` on 3×32×32 images with 10 outputs, as the benchmark uses it:
/// fc-tanh 3072-200-200-10, or Cohen et al.'s CNN.
pub fn bench_spec(arch: Arch, data: &Dataset) -> NetSpec {
    NetSpec {
        arch,
        input_shape: data.input_shape,
        outputs: data.outputs,
        depth: 2,
        width: 200,
        bias: true,
    }
}

/// FLOPs of one GD step on `n` examples (see the module documentation for what is counted).
pub fn gd_step_flops(spec: &NetSpec, n: usize) -> f64 {
    // (multiply-adds of one example's forward pass, of the layers whose input needs a gradient)
    let (forward, input_gradients) = if spec.arch.is_cnn() {
        let [c, h, w] = spec.input_shape;
        let k = sharplab_nets::arch::CNN_CHANNELS;
        let conv1 = h * w * k * c * 9; // output [32, H, W], 3×3 taps over C channels
        let conv2 = (h / 2) * (w / 2) * k * k * 9; // output [32, H/2, W/2]
        let head = k * (h / 4) * (w / 4) * spec.outputs;
        (conv1 + conv2 + head, conv2 + head)
    } else {
        let mut widths = vec![spec.input_dim()];
        widths.extend(std::iter::repeat_n(spec.width, spec.depth));
        widths.push(spec.outputs);
        let layers: Vec<usize> = widths.windows(2).map(|pair| pair[0] * pair[1]).collect();
        (layers.iter().sum(), layers[1..].iter().sum())
    };
    // forward + weight gradients + input gradients, two FLOPs per multiply-add
    2.0 * n as f64 * (2 * forward + input_gradients) as f64
}

/// The one-line description of the setup the PyTorch reference needs for this network.
pub fn setup_entry(settings: &NetworkSettings, params_file: &str) -> Value {
    json!({
        "arch": settings.arch.name(),
        "examples": settings.examples,
        "params": params_file,
        "loss": "mse",
        "precision": "f32",
        "chunk_size": settings.chunk_size,
        "lr": settings.lr,
        "warm_steps": settings.warm_steps,
        "tol": settings.tol,
        "max_hvps": settings.max_hvps,
        "seed": settings.seed,
    })
}

/// Runs the chosen `parts` for `settings.arch` on the first `settings.examples` rows of
/// `data`, writing θ₀ as `<arch>.safetensors` into `out` when given.
pub fn run<B: Backend>(
    settings: &NetworkSettings,
    parts: Parts,
    data: &Dataset,
    out: Option<&Path>,
    device: &B::Device,
) -> anyhow::Result<Vec<Measurement>> {
    let arch = settings.arch.name();
    if data.len() < settings.examples {
        anyhow::bail!(
            "{arch}: the data hold {} examples but the benchmark needs {}: export more with \
             `sharplab data export --n {}` or lower --{}-examples",
            data.len(),
            settings.examples,
            settings.examples,
            if settings.arch.is_cnn() { "cnn" } else { "fc" }
        );
    }
    let data = data.head(settings.examples);
    let spec = bench_spec(settings.arch, &data);
    let problem = Problem::<B>::new(
        &spec,
        Loss::Mse,
        &data,
        settings.chunk_size,
        Precision::F32,
        device,
    )
    .with_context(|| format!("{arch} benchmark"))?;
    let init = spec.init(1.0, settings.seed);
    if let Some(dir) = out {
        let state = TrainState {
            spec: spec.clone(),
            step: 0,
            params: init.clone(),
            velocity: None,
        };
        let path = dir.join(format!("{arch}.safetensors"));
        save_checkpoint(&path, &state, Some(Loss::Mse), Precision::F32)?;
    }
    let theta0 = problem.upload_params(&init)?;
    let bench = Bench {
        settings,
        problem: &problem,
        device,
    };

    let mut results = Vec::new();
    if parts.gd_step {
        results.push(bench.gd_step(&theta0)?);
    }
    if parts.hvp {
        results.push(bench.hvp(&theta0, &spec)?);
    }
    if parts.sharpness {
        results.extend(bench.sharpness(&theta0)?);
    }
    Ok(results)
}

/// One network's problem on the device, and how to time it.
struct Bench<'a, B: Backend> {
    settings: &'a NetworkSettings,
    problem: &'a Problem<B>,
    device: &'a B::Device,
}

impl<B: Backend> Bench<'_, B> {
    fn name(&self, what: &str) -> String {
        format!("{}/{what}", self.settings.arch.name())
    }

    /// θ − η∇L(θ), with the loss and accuracy from the same forward pass.
    fn step(&self, params: &DeviceParams<B>) -> anyhow::Result<DeviceParams<B>> {
        let (evaluation, gradient) = self.problem.loss_and_gradient(params)?;
        if !evaluation.loss.is_finite() {
            anyhow::bail!(
                "{}: the loss is {} at the benchmark's parameters: lower --lr",
                self.settings.arch,
                evaluation.loss
            );
        }
        let lr = Scalar::from(self.settings.lr);
        let next = params
            .iter()
            .zip(gradient)
            .map(|(p, g)| B::float_sub(p.clone(), B::float_mul_scalar(g, lr)))
            .collect();
        self.sync()?;
        Ok(next)
    }

    /// Waits for the device (a no-op on the CPU), so a timing covers the work it started.
    fn sync(&self) -> anyhow::Result<()> {
        B::sync(self.device).map_err(|err| anyhow::anyhow!("the device failed: {err:?}"))
    }

    fn gd_step(&self, theta0: &DeviceParams<B>) -> anyhow::Result<Measurement> {
        self.step(theta0)?; // untimed: first-call allocations
        let mut seconds = Vec::new();
        for _ in 0..self.settings.repeats {
            let (next, elapsed) = timed(|| self.step(theta0));
            next?;
            seconds.push(elapsed);
        }
        let flops = gd_step_flops(self.problem.spec(), self.problem.len());
        let measurement = Measurement::new(self.name("gd-step"), seconds);
        let rate = flops / measurement.median();
        Ok(measurement
            .fact("examples", self.problem.len())
            .fact("flops", flops)
            .fact("flops_per_second", rate)
            .note(format!(
                "N = {}, {:.2} GFLOP, {:.1} GFLOP/s",
                self.problem.len(),
                flops / 1e9,
                rate / 1e9
            )))
    }

    fn hvp(&self, theta0: &DeviceParams<B>, spec: &NetSpec) -> anyhow::Result<Measurement> {
        // a fixed direction of unit norm; the cost does not depend on it
        let mut direction: Vec<f64> = spec.init(1.0, self.settings.seed.wrapping_add(1)).concat();
        let norm = direction.iter().map(|x| x * x).sum::<f64>().sqrt();
        direction.iter_mut().for_each(|x| *x /= norm);
        let mut product = vec![0.0; direction.len()];
        let mut operator = HessianOperator::new(self.problem, theta0);
        let mut apply = |product: &mut [f64]| -> anyhow::Result<()> {
            operator
                .apply(&direction, product)
                .map_err(|err| anyhow::anyhow!("{}: HVP failed: {err}", self.settings.arch))
        };

        apply(&mut product)?; // untimed
        let mut seconds = Vec::new();
        for _ in 0..self.settings.repeats {
            let (result, elapsed) = timed(|| apply(&mut product));
            result?;
            seconds.push(elapsed);
        }
        let curvature: f64 = direction.iter().zip(&product).map(|(a, b)| a * b).sum();
        Ok(Measurement::new(self.name("hvp"), seconds)
            .fact("examples", self.problem.len())
            .fact("params", direction.len())
            .note(format!(
                "N = {}, P = {}, vᵀHv = {curvature:.3e}",
                self.problem.len(),
                direction.len()
            )))
    }

    fn sharpness(&self, theta0: &DeviceParams<B>) -> anyhow::Result<Vec<Measurement>> {
        let settings = self.settings;
        let mut theta1 = theta0.clone();
        for _ in 0..settings.warm_steps {
            theta1 = self.step(&theta1)?;
        }
        let options = |repeat: usize| SharpnessOptions {
            estimator: Estimator::Lanczos,
            top_k: 1,
            tol: settings.tol,
            max_products: settings.max_hvps,
            seed: settings.seed.wrapping_add(repeat as u64),
        };
        let (mut cold, mut warm) = (Estimates::default(), Estimates::default());
        for repeat in 0..settings.sharpness_repeats {
            let (estimate, elapsed) =
                timed(|| estimate_sharpness(self.problem, theta0, &options(repeat), None));
            let estimate = estimate?;
            let start = estimate.vector.clone();
            cold.push(estimate, elapsed);

            let (estimate, elapsed) =
                timed(|| estimate_sharpness(self.problem, &theta1, &options(repeat), Some(start)));
            warm.push(estimate?, elapsed);
        }
        Ok(vec![
            cold.into_measurement(self.name("sharpness-cold"), settings, 0),
            warm.into_measurement(self.name("sharpness-warm"), settings, settings.warm_steps),
        ])
    }
}

/// The outcomes of repeated sharpness estimates.
#[derive(Debug, Default)]
struct Estimates {
    seconds: Vec<f64>,
    hvps: Vec<usize>,
    values: Vec<f64>,
    residuals: Vec<f64>,
    converged: Vec<bool>,
}

impl Estimates {
    fn push(&mut self, estimate: SharpnessEstimate, seconds: f64) {
        self.seconds.push(seconds);
        self.hvps.push(estimate.products);
        self.values.push(estimate.sharpness());
        self.residuals
            .push(estimate.residuals.first().copied().unwrap_or(f64::NAN));
        self.converged.push(estimate.converged);
    }

    fn into_measurement(
        self,
        name: String,
        settings: &NetworkSettings,
        step: usize,
    ) -> Measurement {
        let note = format!(
            "λ_max = {:.6} after {:?} HVPs (step {step}, residual < {:.0e}{})",
            self.values.first().copied().unwrap_or(f64::NAN),
            self.hvps,
            settings.tol,
            if self.converged.iter().all(|c| *c) {
                ""
            } else {
                ", NOT converged"
            }
        );
        Measurement::new(name, self.seconds)
            .fact("step", step)
            .fact("tol", settings.tol)
            .fact("hvps", self.hvps)
            .fact("sharpness", self.values)
            .fact("residual", self.residuals)
            .fact("converged", self.converged)
            .note(note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(arch: Arch) -> NetSpec {
        NetSpec {
            arch,
            input_shape: [3, 32, 32],
            outputs: 10,
            depth: 2,
            width: 200,
            bias: true,
        }
    }

    #[test]
    fn fc_tanh_step_counts_three_products_per_layer_but_two_for_the_first() {
        // forward and weight gradient of every layer; input gradient of layers 2 and 3 only
        let per_example = 2.0 * (3072.0 * 200.0 * 2.0 + (200.0 * 200.0 + 200.0 * 10.0) * 3.0);
        assert_eq!(
            gd_step_flops(&spec(Arch::FcTanh), 5000),
            5000.0 * per_example
        );
    }

    #[test]
    fn cnn_step_counts_convolutions_by_output_pixels_and_taps() {
        let conv1 = 32.0 * 32.0 * 32.0 * 3.0 * 9.0;
        let conv2 = 16.0 * 16.0 * 32.0 * 32.0 * 9.0;
        let head = 2048.0 * 10.0;
        let per_example = 2.0 * (2.0 * conv1 + 3.0 * (conv2 + head));
        assert_eq!(
            gd_step_flops(&spec(Arch::CnnRelu), 1000),
            1000.0 * per_example
        );
    }
}
