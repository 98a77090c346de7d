//! Training a network by full-batch gradient descent or mini-batch SGD, optionally with
//! heavy-ball or Nesterov momentum, while recording loss, accuracy and sharpness.
//!
//! Notation: θ_t the parameters after t updates, η the step size (learning rate), μ the
//! momentum, g_t = ∇L(θ_t) (full batch) or the mini-batch gradient, m the momentum buffer.
//! Updates, as in PyTorch's SGD: m ← μm + g; heavy ball θ ← θ − ηm; Nesterov
//! θ ← θ − η(g + μm); μ = 0 is plain GD/SGD (no buffer is kept). All updates run on the device
//! over the parameter tensors; the full-batch gradient is accumulated over chunks and comes from
//! the same forward pass that gives the recorded loss and accuracy.
//!
//! A row is recorded for every step t = start..=steps under GD (the loss is computed anyway),
//! and every `eval_every` steps under SGD (a full pass over the set). Sharpness is measured
//! every `sharpness_every` steps and at the last step, warm-started from the previous top
//! eigenvector (every `sharpness_cold_every`-th from a random vector). The run stops at the
//! step limit, a training-loss goal, a training-accuracy goal, or a non-finite loss
//! ("diverged"; the parameters kept are the last finite ones).
//!
//! # Limitations
//!
//! Resuming continues the parameters, the momentum buffer and the step count, but not the SGD
//! sampling order (batches are redrawn from the seed and the step). Rows are not written to
//! disk here: the observer does that.

use std::time::Instant;

use burn_backend::{Backend, Scalar};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::problem::{DeviceParams, Problem};
use crate::sharpness::{SharpnessEstimate, SharpnessOptions, estimate_sharpness};
use crate::{Arch, BackendKind, Dataset, Loss, NetSpec, NetsError, Precision};

/// Everything a training run needs besides the data. Every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Architecture (default fc-tanh).
    pub arch: Arch,
    /// Hidden layers (fc) or D (minimalist) (default 2).
    pub depth: usize,
    /// Hidden width of the fc nets (default 200).
    pub width: usize,
    /// Biases in every layer (default true).
    pub bias: bool,
    /// Init bound multiplier: weights uniform in ±scale/√fan_in (default 1, PyTorch's).
    pub init_scale: f64,
    /// Seed of the initialisation and of SGD's batches (default 0).
    pub seed: u64,
    /// Loss (default MSE).
    pub loss: Loss,
    /// Step size η (default 0.01).
    pub lr: f64,
    /// Momentum μ (default 0).
    pub momentum: f64,
    /// Nesterov momentum instead of heavy ball (default false).
    pub nesterov: bool,
    /// Mini-batch size B for SGD; `None` is full-batch GD (default).
    pub batch_size: Option<usize>,
    /// Last step (default 1000).
    pub steps: usize,
    /// Stop once the training loss is at or below this.
    pub loss_goal: Option<f64>,
    /// Stop once the training accuracy is at or above this.
    pub acc_goal: Option<f64>,
    /// SGD only: record a row (a full pass over the set) every this many steps (default 1).
    pub eval_every: usize,
    /// Measure sharpness every this many steps, and always at the last; 0: only at the last
    /// (default 20).
    pub sharpness_every: usize,
    /// Measure sharpness on the first this many training examples; `None` all (default).
    pub sharpness_examples: Option<usize>,
    /// Start every this many-th sharpness measurement from a random vector instead of the
    /// previous top eigenvector (default 10; 0: only the first). A warm start is cheap but
    /// can keep following an eigenvalue that another has overtaken; a cold one cannot.
    pub sharpness_cold_every: usize,
    /// The eigen-solver and its tolerances.
    pub sharpness: SharpnessOptions,
    /// Examples per chunk for gradients and HVPs (default 1000).
    pub chunk_size: usize,
    /// Backend (default cpu).
    pub backend: BackendKind,
    /// Precision (default f32).
    pub precision: Precision,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            arch: Arch::FcTanh,
            depth: 2,
            width: 200,
            bias: true,
            init_scale: 1.0,
            seed: 0,
            loss: Loss::Mse,
            lr: 0.01,
            momentum: 0.0,
            nesterov: false,
            batch_size: None,
            steps: 1000,
            loss_goal: None,
            acc_goal: None,
            eval_every: 1,
            sharpness_every: 20,
            sharpness_examples: None,
            sharpness_cold_every: 10,
            sharpness: SharpnessOptions::default(),
            chunk_size: 1000,
            backend: BackendKind::Cpu,
            precision: Precision::F32,
        }
    }
}

impl TrainConfig {
    /// The network this config trains on data of the given shape.
    pub fn net_spec(&self, input_shape: [usize; 3], outputs: usize) -> NetSpec {
        NetSpec {
            arch: self.arch,
            input_shape,
            outputs,
            depth: self.depth,
            width: self.width,
            bias: self.bias,
        }
    }

    /// Checks every value against the data size `n`, naming the bad one.
    pub fn validate(&self, n: usize) -> Result<(), NetsError> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(NetsError::config("lr", self.lr, "use a positive step size"));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(NetsError::config(
                "momentum",
                self.momentum,
                "use 0 <= momentum < 1",
            ));
        }
        if self.nesterov && self.momentum == 0.0 {
            return Err(NetsError::config(
                "nesterov",
                true,
                "Nesterov needs a momentum: add --momentum 0.9",
            ));
        }
        if let Some(batch) = self.batch_size
            && (batch == 0 || batch > n)
        {
            return Err(NetsError::config(
                "batch size",
                batch,
                format!("use 1 <= B <= N = {n}, or full-batch GD"),
            ));
        }
        if self.eval_every == 0 {
            return Err(NetsError::config("eval_every", 0, "use 1 or more"));
        }
        if let Some(examples) = self.sharpness_examples
            && (examples == 0 || examples > n)
        {
            return Err(NetsError::config(
                "sharpness examples",
                examples,
                format!("use 1 to N = {n}, or leave it out to use every training example"),
            ));
        }
        if let Some(goal) = self.loss_goal
            && !(goal.is_finite() && goal > 0.0)
        {
            return Err(NetsError::config(
                "loss goal",
                goal,
                "use a positive training loss to stop at",
            ));
        }
        if let Some(goal) = self.acc_goal
            && !(0.0..=1.0).contains(&goal)
        {
            return Err(NetsError::config(
                "accuracy goal",
                goal,
                "use a fraction from 0 to 1, e.g. 0.99",
            ));
        }
        if !(self.init_scale.is_finite() && self.init_scale > 0.0) {
            return Err(NetsError::config(
                "init scale",
                self.init_scale,
                "use a positive scale",
            ));
        }
        Ok(())
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Reached the step limit.
    Completed,
    /// The training loss reached `loss_goal`.
    LossGoal,
    /// The training accuracy reached `acc_goal`.
    AccuracyGoal,
    /// The loss became non-finite.
    Diverged,
}

impl Status {
    /// The name the summary JSON uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::LossGoal => "loss_goal",
            Status::AccuracyGoal => "accuracy_goal",
            Status::Diverged => "diverged",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recorded step: the CSV row of a trajectory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Updates made so far (θ_step).
    pub step: usize,
    /// Training loss at θ_step.
    pub loss: f64,
    /// Training accuracy at θ_step.
    pub accuracy: f64,
    /// λ_max at θ_step, when measured at this step.
    pub sharpness: Option<f64>,
    /// The stability threshold 2/η.
    pub two_over_lr: f64,
    /// Hessian-vector products the sharpness estimate took (0 when not measured).
    pub hvps: usize,
}

/// Parameters and optimizer state of a run, on the host: what a checkpoint holds.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainState {
    /// The network.
    pub spec: NetSpec,
    /// Updates made.
    pub step: usize,
    /// θ, one vector per parameter tensor in flat order.
    pub params: Vec<Vec<f64>>,
    /// The momentum buffer, when momentum is on.
    pub velocity: Option<Vec<Vec<f64>>>,
}

/// What a run reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    pub status: Status,
    /// Step of the final parameters.
    pub final_step: usize,
    pub final_loss: f64,
    pub final_accuracy: f64,
    /// λ_max at the final parameters (when sharpness is measured).
    pub final_sharpness: Option<f64>,
    /// Every measurement, as [step, λ_max].
    pub sharpness: Vec<(usize, f64)>,
    /// 2/η.
    pub two_over_lr: f64,
    /// Number of parameters P.
    pub num_params: usize,
    /// Training examples N.
    pub num_examples: usize,
    /// Hessian-vector products, all estimates together.
    pub hvps: usize,
    /// Wall time of the whole run.
    pub seconds: f64,
    /// Mean wall time of one training step (gradient and update, without sharpness).
    pub seconds_per_step: f64,
    /// Mean wall time of one Hessian-vector product (solver overhead included).
    pub seconds_per_hvp: f64,
}

/// The summary and the final state (for the checkpoint).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    pub summary: TrainSummary,
    pub state: TrainState,
}

/// Receives each recorded row as soon as it exists (to stream CSV, show progress).
pub trait Observer {
    /// Called once per recorded row; an error stops the run.
    fn on_row(&mut self, row: &Row) -> Result<(), NetsError>;
}

impl<F: FnMut(&Row) -> Result<(), NetsError>> Observer for F {
    fn on_row(&mut self, row: &Row) -> Result<(), NetsError> {
        self(row)
    }
}

/// Trains on `data` as `config` says, from `resume` when given (else a fresh init), reporting
/// each row to `observer`. Runs on the backend the config names.
pub fn train(
    config: &TrainConfig,
    data: &Dataset,
    resume: Option<TrainState>,
    observer: &mut dyn Observer,
) -> Result<TrainOutcome, NetsError> {
    crate::backend::dispatch!(config.backend, config.precision, |B, device| {
        train_on::<B>(config, data, resume, observer, &device)
    })
}

/// [`train`] on the backend `B`.
pub fn train_on<B: Backend>(
    config: &TrainConfig,
    data: &Dataset,
    resume: Option<TrainState>,
    observer: &mut dyn Observer,
    device: &B::Device,
) -> Result<TrainOutcome, NetsError> {
    let started = Instant::now();
    config.validate(data.len())?;
    let spec = config.net_spec(data.input_shape, data.outputs);
    let problem = Problem::<B>::new(
        &spec,
        config.loss,
        data,
        config.chunk_size,
        config.precision,
        device,
    )?;
    let sharpness_problem = match config.sharpness_examples {
        Some(m) if m < data.len() => Some(Problem::<B>::new(
            &spec,
            config.loss,
            &data.head(m),
            config.chunk_size,
            config.precision,
            device,
        )?),
        _ => None,
    };
    let sharpness_problem = sharpness_problem.as_ref().unwrap_or(&problem);

    let (start, params, velocity) = initial_state(config, &spec, &problem, resume)?;
    let mut run = Run {
        config,
        problem: &problem,
        params,
        velocity,
        rng: ChaCha8Rng::seed_from_u64(config.seed ^ (start as u64).wrapping_mul(0x9E37_79B9)),
        order: Vec::new(),
        cursor: 0,
    };
    let mut recorder = Recorder::new(config, &problem);

    let mut status = Status::Completed;
    let mut last_good = (start, run.params.clone(), run.velocity.clone());
    let mut step = start;
    loop {
        let step_started = Instant::now();
        let is_gd = config.batch_size.is_none();
        let measures = config.sharpness_every > 0 && step % config.sharpness_every == 0;
        let records = is_gd || step % config.eval_every == 0 || measures || step == config.steps;

        let (evaluation, gradient) = if is_gd {
            let (evaluation, gradient) = problem.loss_and_gradient(&run.params)?;
            (Some(evaluation), Some(gradient))
        } else if records {
            (Some(problem.evaluate(&run.params)?), None)
        } else {
            (None, None)
        };
        recorder.step_seconds += step_started.elapsed().as_secs_f64();

        if let Some(evaluation) = evaluation {
            if !evaluation.loss.is_finite() {
                tracing::warn!(step, loss = evaluation.loss, "loss is not finite: diverged");
                recorder.emit(observer, step, evaluation, None)?;
                status = Status::Diverged;
                break;
            }
            let goal = goal_reached(config, evaluation.loss, evaluation.accuracy);
            let last = goal.is_some() || step >= config.steps;
            let estimate = if measures || last {
                Some(recorder.measure(sharpness_problem, &run.params)?)
            } else {
                None
            };
            recorder.emit(observer, step, evaluation, estimate)?;
            last_good = (step, run.params.clone(), run.velocity.clone());
            if let Some(goal) = goal {
                status = goal;
                break;
            }
        }
        if step >= config.steps {
            break;
        }

        let step_started = Instant::now();
        let gradient = match gradient {
            Some(gradient) => gradient,
            None => run.minibatch_gradient()?,
        };
        run.update(gradient);
        recorder.step_seconds += step_started.elapsed().as_secs_f64();
        recorder.updates += 1;
        step += 1;
    }

    let (final_step, params, velocity) = last_good;
    let state = TrainState {
        spec: spec.clone(),
        step: final_step,
        params: problem.download_params(&params)?,
        velocity: velocity.map(|v| problem.download_params(&v)).transpose()?,
    };
    let summary = recorder.summary(status, final_step, started.elapsed().as_secs_f64());
    tracing::info!(
        status = ?summary.status,
        final_step,
        final_loss = summary.final_loss,
        seconds_per_step = summary.seconds_per_step,
        seconds_per_hvp = summary.seconds_per_hvp,
        "training finished"
    );
    Ok(TrainOutcome { summary, state })
}

/// The step a run starts at, its parameters θ and its momentum buffer m, on the device.
type StartingPoint<B> = (usize, DeviceParams<B>, Option<DeviceParams<B>>);

/// Start step, parameters and momentum buffer: from `resume`, or a fresh init.
fn initial_state<B: Backend>(
    config: &TrainConfig,
    spec: &NetSpec,
    problem: &Problem<B>,
    resume: Option<TrainState>,
) -> Result<StartingPoint<B>, NetsError> {
    let Some(state) = resume else {
        let params = problem.upload_params(&spec.init(config.init_scale, config.seed))?;
        let velocity = (config.momentum > 0.0).then(|| problem.zeros());
        return Ok((0, params, velocity));
    };
    if state.spec != *spec {
        return Err(NetsError::Checkpoint {
            path: "(resume)".into(),
            reason: format!(
                "it holds a {} net, but the run asks for a {}: resume with the same --arch, \
                 --depth, --width, --bias and data",
                state.spec, spec
            ),
        });
    }
    let params = problem.upload_params(&state.params)?;
    let velocity = match (config.momentum > 0.0, state.velocity) {
        (false, _) => None,
        (true, Some(v)) => Some(problem.upload_params(&v)?),
        (true, None) => Some(problem.zeros()),
    };
    Ok((state.step, params, velocity))
}

/// Whether the loss or accuracy goal is met, and which.
fn goal_reached(config: &TrainConfig, loss: f64, accuracy: f64) -> Option<Status> {
    if config.loss_goal.is_some_and(|goal| loss <= goal) {
        Some(Status::LossGoal)
    } else if config.acc_goal.is_some_and(|goal| accuracy >= goal) {
        Some(Status::AccuracyGoal)
    } else {
        None
    }
}

/// The moving parts of a run: parameters, momentum buffer, SGD's sampler.
struct Run<'a, B: Backend> {
    config: &'a TrainConfig,
    problem: &'a Problem<B>,
    params: DeviceParams<B>,
    velocity: Option<DeviceParams<B>>,
    rng: ChaCha8Rng,
    order: Vec<usize>,
    cursor: usize,
}

impl<B: Backend> Run<'_, B> {
    /// The gradient on the next mini-batch: examples drawn without replacement, reshuffled
    /// whenever fewer than B remain.
    fn minibatch_gradient(&mut self) -> Result<DeviceParams<B>, NetsError> {
        let batch = self.config.batch_size.unwrap_or(self.problem.len());
        if self.cursor + batch > self.order.len() {
            self.order = (0..self.problem.len()).collect();
            self.order.shuffle(&mut self.rng);
            self.cursor = 0;
        }
        let indices = &self.order[self.cursor..self.cursor + batch];
        self.cursor += batch;
        let (_, gradient) = self
            .problem
            .batch_loss_and_gradient(&self.params, indices)?;
        Ok(gradient)
    }

    /// One optimizer step with gradient g.
    fn update(&mut self, gradient: DeviceParams<B>) {
        let (lr, mu) = (self.config.lr, self.config.momentum);
        let direction = match self.velocity.take() {
            None => gradient,
            Some(velocity) => {
                // m ← μm + g
                let velocity: DeviceParams<B> = velocity
                    .into_iter()
                    .zip(&gradient)
                    .map(|(m, g)| B::float_add(B::float_mul_scalar(m, Scalar::from(mu)), g.clone()))
                    .collect();
                let direction = if self.config.nesterov {
                    // g + μm
                    gradient
                        .into_iter()
                        .zip(&velocity)
                        .map(|(g, m)| {
                            B::float_add(g, B::float_mul_scalar(m.clone(), Scalar::from(mu)))
                        })
                        .collect()
                } else {
                    velocity.clone()
                };
                self.velocity = Some(velocity);
                direction
            }
        };
        self.params = std::mem::take(&mut self.params)
            .into_iter()
            .zip(direction)
            .map(|(p, d)| B::float_sub(p, B::float_mul_scalar(d, Scalar::from(lr))))
            .collect();
    }
}

/// Rows, sharpness measurements and timings of a run.
struct Recorder {
    two_over_lr: f64,
    options: SharpnessOptions,
    num_params: usize,
    num_examples: usize,
    warm_start: Option<Vec<f64>>,
    cold_every: usize,
    measurements: usize,
    last: Option<Row>,
    sharpness: Vec<(usize, f64)>,
    last_sharpness: Option<(usize, f64)>,
    hvps: usize,
    hvp_seconds: f64,
    step_seconds: f64,
    updates: usize,
}

impl Recorder {
    fn new<B: Backend>(config: &TrainConfig, problem: &Problem<B>) -> Self {
        Self {
            two_over_lr: 2.0 / config.lr,
            options: config.sharpness.clone(),
            num_params: problem.spec().num_params(),
            num_examples: problem.len(),
            warm_start: None,
            cold_every: config.sharpness_cold_every,
            measurements: 0,
            last: None,
            sharpness: Vec::new(),
            last_sharpness: None,
            hvps: 0,
            hvp_seconds: 0.0,
            step_seconds: 0.0,
            updates: 0,
        }
    }

    /// λ_max at θ, warm-started from the previous top eigenvector, except every
    /// `cold_every`-th measurement.
    fn measure<B: Backend>(
        &mut self,
        problem: &Problem<B>,
        params: &DeviceParams<B>,
    ) -> Result<SharpnessEstimate, NetsError> {
        let started = Instant::now();
        let cold = self.cold_every > 0 && self.measurements.is_multiple_of(self.cold_every);
        let warm = self.warm_start.take().filter(|_| !cold);
        self.measurements += 1;
        let estimate = estimate_sharpness(problem, params, &self.options, warm)?;
        self.hvp_seconds += started.elapsed().as_secs_f64();
        self.hvps += estimate.products;
        self.warm_start = Some(estimate.vector.clone());
        Ok(estimate)
    }

    /// Builds the row of `step` and hands it to the observer.
    fn emit(
        &mut self,
        observer: &mut dyn Observer,
        step: usize,
        evaluation: crate::Evaluation,
        estimate: Option<SharpnessEstimate>,
    ) -> Result<(), NetsError> {
        let sharpness = estimate.as_ref().map(SharpnessEstimate::sharpness);
        if let Some(value) = sharpness {
            self.sharpness.push((step, value));
            self.last_sharpness = Some((step, value));
        }
        let row = Row {
            step,
            loss: evaluation.loss,
            accuracy: evaluation.accuracy,
            sharpness,
            two_over_lr: self.two_over_lr,
            hvps: estimate.map_or(0, |e| e.products),
        };
        tracing::debug!(?row, "step");
        observer.on_row(&row)?;
        if row.loss.is_finite() {
            self.last = Some(row);
        }
        Ok(())
    }

    fn summary(&self, status: Status, final_step: usize, seconds: f64) -> TrainSummary {
        let (final_loss, final_accuracy) = self
            .last
            .as_ref()
            .map_or((f64::NAN, f64::NAN), |r| (r.loss, r.accuracy));
        TrainSummary {
            status,
            final_step,
            final_loss,
            final_accuracy,
            final_sharpness: self
                .last_sharpness
                .filter(|(step, _)| *step == final_step)
                .map(|(_, value)| value),
            sharpness: self.sharpness.clone(),
            two_over_lr: self.two_over_lr,
            num_params: self.num_params,
            num_examples: self.num_examples,
            hvps: self.hvps,
            seconds,
            seconds_per_step: self.step_seconds / self.updates.max(1) as f64,
            seconds_per_hvp: if self.hvps == 0 {
                0.0
            } else {
                self.hvp_seconds / self.hvps as f64
            },
        }
    }
}
