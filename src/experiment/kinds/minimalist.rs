//! Runs of kind `minimalist`: train the minimalist model of `crates/minimalist` on a two-class
//! subset and report its final sharpness beside the theory's prediction.
//!
//! Parameters (besides the data ones of the parent module): `depth` (D), `lr` or `lr_factor`
//! (η = lr_factor · 2/Ŝ_D, so "small" and "edge of stability" mean the same at every N),
//! `batch_size` (SGD; omitted: full-batch GD), `flow` (gradient flow), `steps`,
//! `precision` ("f64" or "f32"), `init_scale` (α), `balanced`, `record_every` (default 10),
//! `sharpness_every` (default 1; 0 computes it only in recorded rows), `loss_goal` (converged
//! once L − L_min is at most this; default 1e-10), `stop_at_convergence` (default true).
//!
//! # Limitations
//!
//! The SVD of the subset is recomputed for every run, even when runs share the data.

use std::collections::BTreeMap;

use anyhow::Context as _;
use sharplab_minimalist::{Init, Method, MinimalConfig, Precision, Status, theory};

use super::{KindContext, KindOutput, reduced_pm1, subset};
use crate::experiment::params::ParamReader;
use crate::experiment::spec::RunSpec;
use crate::experiment::store::RunStatus;

/// The parameters this kind reads, besides the data ones.
pub(super) const PARAMS: &[&str] = &[
    "depth",
    "lr",
    "lr_factor",
    "batch_size",
    "flow",
    "steps",
    "precision",
    "init_scale",
    "balanced",
    "record_every",
    "sharpness_every",
    "loss_goal",
    "stop_at_convergence",
];

/// The trajectory columns every run kind shares, then the minimalist model's own.
#[derive(serde::Serialize)]
struct Row {
    step: usize,
    loss: f64,
    sharpness: Option<f64>,
    two_over_lr: f64,
    layer_imbalance: Option<f64>,
    u_norm: f64,
    product_of_v: f64,
}

pub fn execute(
    run: &RunSpec,
    ctx: &KindContext,
    trajectory: &mut csv::Writer<std::fs::File>,
) -> anyhow::Result<KindOutput> {
    let p = ParamReader::new(run);
    let n = p.usize("n")?;
    let reduced = reduced_pm1(&subset(&p, ctx.data_dir, n)?)?;
    let difficulty = theory::difficulty(&reduced);
    let depth = p.usize("depth")?;
    let predicted = theory::predicted_sharpness(difficulty.sigma1_sq_over_n, difficulty.q, depth);

    let config = config(&p, depth, predicted)?;
    ctx.bar.set_length(config.steps as u64);
    let mut write_error = None;
    let summary = sharplab_minimalist::train(&reduced, &config, |row| {
        ctx.bar.set_position(row.step as u64);
        let out = Row {
            step: row.step,
            loss: row.loss,
            sharpness: row.sharpness,
            two_over_lr: row.two_over_lr,
            layer_imbalance: row.imbalance,
            u_norm: row.u_norm,
            product_of_v: row.v.iter().product(),
        };
        if let Err(e) = trajectory.serialize(out)
            && write_error.is_none()
        {
            write_error = Some(e);
        }
    })?;
    if let Some(e) = write_error {
        return Err(e).context("writing the trajectory");
    }

    let mut metrics = BTreeMap::from([
        ("final_loss".to_string(), summary.final_loss),
        ("final_sharpness".to_string(), summary.final_sharpness),
        (
            "predicted_sharpness".to_string(),
            summary.predicted_sharpness,
        ),
        ("lower_bound".to_string(), summary.lower_bound),
        ("upper_bound".to_string(), summary.upper_bound),
        ("Q".to_string(), summary.difficulty),
        ("sigma1_sq_over_n".to_string(), summary.sigma1_sq_over_n),
        ("lr".to_string(), config.lr),
        ("two_over_lr".to_string(), summary.two_over_lr),
        ("steps_run".to_string(), summary.steps_run as f64),
        ("rank".to_string(), summary.rank as f64),
    ]);
    if let Some(c) = summary.final_imbalance {
        metrics.insert("final_layer_imbalance".to_string(), c);
    }
    Ok(KindOutput {
        status: status(summary.status),
        metrics,
        has_trajectory: true,
    })
}

fn config(p: &ParamReader, depth: usize, predicted: f64) -> anyhow::Result<MinimalConfig> {
    let defaults = MinimalConfig::default();
    let method = if p.bool("flow", false)? {
        Method::Flow
    } else if p.has("batch_size") {
        Method::Sgd
    } else {
        Method::Gd
    };
    let precision = match p.opt_string("precision")?.as_deref() {
        None | Some("f64") => Precision::F64,
        Some("f32") => Precision::F32,
        Some(other) => anyhow::bail!("precision {other:?}: use \"f64\" or \"f32\""),
    };
    let scale = p.opt_f64("init_scale")?.unwrap_or(0.1);
    let init = if p.bool("balanced", false)? {
        Init::Balanced { scale }
    } else {
        Init::Random { scale }
    };
    Ok(MinimalConfig {
        depth,
        lr: p.step_size(predicted)?,
        method,
        batch_size: p.opt_usize("batch_size")?.unwrap_or(defaults.batch_size),
        steps: p.usize("steps")?,
        record_every: p.opt_usize("record_every")?.unwrap_or(10),
        sharpness_every: p
            .opt_usize("sharpness_every")?
            .unwrap_or(defaults.sharpness_every),
        loss_goal: p.opt_f64("loss_goal")?.unwrap_or(defaults.loss_goal),
        precision,
        init,
        seed: p.opt_usize("seed")?.unwrap_or(0) as u64,
        stop_at_convergence: p.bool("stop_at_convergence", true)?,
        ..defaults
    })
}

fn status(status: Status) -> RunStatus {
    match status {
        Status::Converged => RunStatus::Converged,
        Status::Diverged => RunStatus::Diverged,
        Status::EdgeOfStability => RunStatus::EdgeOfStability,
        Status::NotConverged => RunStatus::Unconverged,
    }
}
