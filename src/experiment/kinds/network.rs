//! Runs of kind `network`: train a burn network of `crates/nets` on a CIFAR-10 or
//! Fashion-MNIST subset, measuring its sharpness along the way, and report its final sharpness
//! beside the minimalist model's prediction Ŝ_D for the same data.
//!
//! Parameters (besides the data ones of the parent module): `arch` (fc-linear, fc-tanh,
//! fc-relu, fc-elu, cnn-relu, cnn-tanh, minimalist), `depth` (hidden layers), `width`, `bias`,
//! `init_scale`, `loss` ("mse" or "ce"), `targets` ("onehot", or "pm1" for one ±1 output on
//! two classes), `lr` or `lr_factor` (η = lr_factor · 2/Ŝ_D), `momentum`, `nesterov`,
//! `batch_size` (SGD; omitted: full-batch GD), `steps` or `time` (= η·steps, so that runs at
//! different η train for the same gradient-flow time), `loss_goal`, `acc_goal`, `eval_every`,
//! `sharpness_every`, `sharpness_examples`, `sharpness_cold_every`, `precision` ("f32" or
//! "f64").
//!
//! The minimalist theory's Q, σ₁²/N and Ŝ_D (with D = depth + 1, the number of weight layers,
//! for an MLP; D = depth for `arch = "minimalist"`) are computed on the same inputs with ±1
//! targets of the two classes and reported beside the measured sharpness; with more than two
//! classes, and for the CNNs, they are left out (and `lr_factor` cannot be used).
//!
//! The backend is the job's (`--backend`), not the file's.
//!
//! # Limitations
//!
//! Runs are trained one after another in one process; a GPU is used by one run at a time.

use std::collections::BTreeMap;

use anyhow::{Context as _, anyhow};
use sharplab_data::{Subset, Targets};
use sharplab_minimalist::theory;
use sharplab_nets::{Arch, NetsError, Row, Status, TrainConfig};

use super::{KindContext, KindOutput, reduced_pm1, subset};
use crate::experiment::params::ParamReader;
use crate::experiment::spec::RunSpec;
use crate::experiment::store::RunStatus;

/// The parameters this kind reads, besides the data ones.
pub(super) const PARAMS: &[&str] = &[
    "arch",
    "depth",
    "width",
    "bias",
    "init_scale",
    "loss",
    "targets",
    "lr",
    "lr_factor",
    "momentum",
    "nesterov",
    "batch_size",
    "steps",
    "time",
    "loss_goal",
    "acc_goal",
    "eval_every",
    "sharpness_every",
    "sharpness_examples",
    "sharpness_cold_every",
    "precision",
];

pub fn execute(
    run: &RunSpec,
    ctx: &KindContext,
    trajectory: &mut csv::Writer<std::fs::File>,
) -> anyhow::Result<KindOutput> {
    let p = ParamReader::new(run);
    let n = p.usize("n")?;
    let data = subset(&p, ctx.data_dir, n)?;
    let depth = p.opt_usize("depth")?.unwrap_or(2);
    let arch: Arch = match p.opt_string("arch")? {
        Some(name) => name.parse()?,
        None => TrainConfig::default().arch,
    };
    // The minimalist model's D is the number of weight layers in a chain: depth + 1 for an MLP,
    // `depth` itself for the minimalist arch; a CNN is no such chain, so it has no Ŝ_D.
    let theory = match arch {
        Arch::CnnRelu | Arch::CnnTanh => None,
        Arch::Minimalist => minimalist_theory(&data, depth)?,
        _ => minimalist_theory(&data, depth + 1)?,
    };
    let predicted = theory.map(|t| t.predicted_sharpness);
    let config = TrainConfig {
        backend: ctx.backend,
        arch,
        ..config(&p, depth, predicted)?
    };
    let targets = match p.opt_string("targets")?.as_deref() {
        None | Some("onehot") => Targets::OneHot,
        Some("pm1") => Targets::PlusMinusOne,
        Some(other) => anyhow::bail!("targets {other:?}: use \"onehot\" or \"pm1\""),
    };
    let y = data.targets(targets)?;
    let outputs = y.len() / data.n;
    let dataset = sharplab_nets::Dataset::new(data.x.clone(), y, data.shape, outputs)?;

    ctx.bar.set_length(config.steps as u64);
    let mut observer = |row: &Row| -> Result<(), NetsError> {
        ctx.bar.set_position(row.step as u64);
        trajectory
            .serialize(row)
            .map_err(|e| NetsError::Observer(format!("writing the trajectory: {e}")))
    };
    let outcome = sharplab_nets::train(&config, &dataset, None, &mut observer)
        .with_context(|| format!("training {}", config.arch))?;
    let summary = outcome.summary;

    let mut metrics = BTreeMap::from([
        ("final_loss".to_string(), summary.final_loss),
        ("final_accuracy".to_string(), summary.final_accuracy),
        ("lr".to_string(), config.lr),
        ("two_over_lr".to_string(), summary.two_over_lr),
        ("steps_run".to_string(), summary.final_step as f64),
        ("hvps".to_string(), summary.hvps as f64),
        ("num_params".to_string(), summary.num_params as f64),
    ]);
    if let Some(s) = summary.final_sharpness {
        metrics.insert("final_sharpness".to_string(), s);
    }
    if let Some(max) = summary.sharpness.iter().map(|m| m.1).reduce(f64::max) {
        metrics.insert("max_sharpness".to_string(), max);
    }
    if let Some(t) = theory {
        metrics.insert("predicted_sharpness".to_string(), t.predicted_sharpness);
        metrics.insert("Q".to_string(), t.q);
        metrics.insert("sigma1_sq_over_n".to_string(), t.sigma1_sq_over_n);
    }
    let status = match summary.status {
        Status::Diverged => RunStatus::Diverged,
        Status::LossGoal | Status::AccuracyGoal => RunStatus::Converged,
        Status::Completed => RunStatus::Unconverged,
    };
    Ok(KindOutput {
        status,
        metrics,
        has_trajectory: true,
    })
}

/// `steps`, or `time` / η rounded up: equal `time` means the same gradient-flow time η·t, so
/// runs at different η cover the same stretch of training.
fn steps(p: &ParamReader, lr: f64) -> anyhow::Result<usize> {
    match (p.opt_usize("steps")?, p.opt_f64("time")?) {
        (Some(steps), None) => Ok(steps),
        (None, Some(time)) if time > 0.0 && time.is_finite() => Ok((time / lr).ceil() as usize),
        (None, Some(time)) => anyhow::bail!("time = {time} must be positive"),
        (Some(_), Some(_)) => anyhow::bail!("give `steps` or `time`, not both"),
        (None, None) => anyhow::bail!("give `steps` (or `time` = η·steps)"),
    }
}

/// What the minimalist model says about the same inputs with ±1 targets.
#[derive(Debug, Clone, Copy)]
struct MinimalistTheory {
    q: f64,
    sigma1_sq_over_n: f64,
    predicted_sharpness: f64,
}

/// Q, σ₁²/N and Ŝ_D of the subset; `None` unless it has exactly two classes.
fn minimalist_theory(data: &Subset, depth: usize) -> anyhow::Result<Option<MinimalistTheory>> {
    if data.num_classes() != 2 {
        return Ok(None);
    }
    let reduced = reduced_pm1(data)?;
    let difficulty = theory::difficulty(&reduced);
    Ok(Some(MinimalistTheory {
        q: difficulty.q,
        sigma1_sq_over_n: difficulty.sigma1_sq_over_n,
        predicted_sharpness: theory::predicted_sharpness(
            difficulty.sigma1_sq_over_n,
            difficulty.q,
            depth,
        ),
    }))
}

fn config(p: &ParamReader, depth: usize, predicted: Option<f64>) -> anyhow::Result<TrainConfig> {
    let defaults = TrainConfig::default();
    let parse_err = |e: NetsError| anyhow!("{e}");
    let lr = if p.has("lr_factor") {
        let reference = predicted.ok_or_else(|| {
            anyhow!(
                "lr_factor needs Ŝ_D, which needs exactly two classes and an fc-* or minimalist \
                 arch; give `lr`"
            )
        })?;
        p.step_size(reference)?
    } else {
        p.f64("lr")?
    };
    Ok(TrainConfig {
        depth,
        width: p.opt_usize("width")?.unwrap_or(defaults.width),
        bias: p.bool("bias", defaults.bias)?,
        init_scale: p.opt_f64("init_scale")?.unwrap_or(defaults.init_scale),
        seed: p.opt_usize("seed")?.unwrap_or(0) as u64,
        loss: p
            .opt_string("loss")?
            .map(|l| l.parse().map_err(parse_err))
            .transpose()?
            .unwrap_or(defaults.loss),
        lr,
        momentum: p.opt_f64("momentum")?.unwrap_or(0.0),
        nesterov: p.bool("nesterov", false)?,
        batch_size: p.opt_usize("batch_size")?,
        steps: steps(p, lr)?,
        loss_goal: p.opt_f64("loss_goal")?,
        acc_goal: p.opt_f64("acc_goal")?,
        eval_every: p.opt_usize("eval_every")?.unwrap_or(defaults.eval_every),
        sharpness_every: p
            .opt_usize("sharpness_every")?
            .unwrap_or(defaults.sharpness_every),
        sharpness_examples: p.opt_usize("sharpness_examples")?,
        sharpness_cold_every: p
            .opt_usize("sharpness_cold_every")?
            .unwrap_or(defaults.sharpness_cold_every),
        precision: p
            .opt_string("precision")?
            .map(|s| s.parse().map_err(parse_err))
            .transpose()?
            .unwrap_or(defaults.precision),
        ..defaults
    })
}
