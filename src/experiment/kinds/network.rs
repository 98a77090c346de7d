//! Runs of kind `network`: train a burn network of `crates/nets` on a CIFAR-10 or
//! Fashion-MNIST subset, measuring its sharpness along the way, and report its final sharpness
//! beside the minimalist model's prediction Ŝ_D for the same data.
//!
//! Parameters (besides the data ones of the parent module): `arch` (fc-linear, fc-tanh,
//! fc-relu, fc-elu, cnn-relu, cnn-tanh), `depth` (hidden layers), `width`, `bias`,
//! `init_scale`, `loss` ("mse" or "ce"), `targets` ("onehot", or "pm1" for one ±1 output on
//! two classes), `lr` or `lr_factor` (η = lr_factor · 2/Ŝ_D), `momentum`, `nesterov`,
//! `batch_size` (SGD; omitted: full-batch GD), `steps`, `loss_goal`, `acc_goal`,
//! `sharpness_every`, `sharpness_examples`, `precision` ("f32" or "f64").
//!
//! Ŝ_D is computed with D = depth + 1, the number of weight layers, on the inputs and ±1
//! targets of the two classes; with more classes it is left out.
//!
//! # Limitations
//!
//! Always on the CPU backend: an experiment file cannot ask for wgpu yet.

use std::collections::BTreeMap;

use anyhow::{Context as _, anyhow};
use sharplab_data::{Subset, Targets};
use sharplab_minimalist::{Reduced, theory};
use sharplab_nets::{NetsError, Row, Status, TrainConfig};

use super::{KindContext, KindOutput, subset};
use crate::experiment::params::ParamReader;
use crate::experiment::spec::RunSpec;
use crate::experiment::store::RunStatus;

pub fn execute(
    run: &RunSpec,
    ctx: &KindContext,
    trajectory: &mut csv::Writer<std::fs::File>,
) -> anyhow::Result<KindOutput> {
    let p = ParamReader::new(run);
    let n = p.usize("n")?;
    let data = subset(&p, ctx.data_dir, n)?;
    let depth = p.opt_usize("depth")?.unwrap_or(2);
    let predicted = predicted_sharpness(&data, depth + 1)?;
    let config = config(&p, depth, predicted)?;
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
    if let Some(s) = predicted {
        metrics.insert("predicted_sharpness".to_string(), s);
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

/// Ŝ_D of the minimalist model on the same inputs with ±1 targets; `None` unless the subset
/// has exactly two classes.
fn predicted_sharpness(data: &Subset, depth: usize) -> anyhow::Result<Option<f64>> {
    if data.num_classes() != 2 {
        return Ok(None);
    }
    let y = data.targets(Targets::PlusMinusOne)?;
    let reduced = Reduced::new(
        &data.x,
        data.n,
        data.d,
        &y,
        sharplab_minimalist::DEFAULT_CUTOFF,
    )
    .context("the SVD of the subset")?;
    let difficulty = theory::difficulty(&reduced);
    Ok(Some(theory::predicted_sharpness(
        difficulty.sigma1_sq_over_n,
        difficulty.q,
        depth,
    )))
}

fn config(p: &ParamReader, depth: usize, predicted: Option<f64>) -> anyhow::Result<TrainConfig> {
    let defaults = TrainConfig::default();
    let parse_err = |e: NetsError| anyhow!("run {}: {e}", p.run_id());
    let lr = if p.has("lr_factor") {
        let reference = predicted.ok_or_else(|| {
            anyhow!(
                "run {}: lr_factor needs Ŝ_D, which needs exactly two classes; give `lr`",
                p.run_id()
            )
        })?;
        p.step_size(reference)?
    } else {
        p.f64("lr")?
    };
    Ok(TrainConfig {
        arch: p
            .opt_string("arch")?
            .map(|a| a.parse().map_err(parse_err))
            .transpose()?
            .unwrap_or(defaults.arch),
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
        steps: p.usize("steps")?,
        loss_goal: p.opt_f64("loss_goal")?,
        acc_goal: p.opt_f64("acc_goal")?,
        sharpness_every: p
            .opt_usize("sharpness_every")?
            .unwrap_or(defaults.sharpness_every),
        sharpness_examples: p.opt_usize("sharpness_examples")?,
        precision: p
            .opt_string("precision")?
            .map(|s| s.parse().map_err(parse_err))
            .transpose()?
            .unwrap_or(defaults.precision),
        ..defaults
    })
}
