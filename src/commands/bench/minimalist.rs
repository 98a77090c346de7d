//! The minimalist-model benchmark: GD steps per second with the exact sharpness every step
//! (`sharplab_minimalist::train` with `sharpness_every = 1`), on N = 1,000 two-class images
//! with ±1 targets, d = 3,072, D = 3, η = 1/Ŝ_3, from u ~ 0.1·N(0, I/d) and vᵢ = 0.1.
//!
//! The cost of the exact sharpness depends on where training is (its warm-started secular
//! equation has needed several times more evaluations late in training than in the first
//! steps from a tiny init), so the timed stretch starts at step `warmup_steps` (default
//! 1,000,000, where S has grown from 0.5 to several thousand on CIFAR-10 cat/dog), not at the
//! init: the warm-up runs plain GD without sharpness, with the crate's exact gradient, and the
//! timed runs continue from there with `Init::Explicit`. Each timed repeat restarts from the
//! same point.
//!
//! # Limitations
//!
//! The warm-up is plain GD in f64 written here with `ReducedModel::gradient`, not the
//! crate's training loop (which does not hand back its final u); it follows the same update,
//! so its end point is the one `train` would reach up to rounding.

use std::path::Path;

use anyhow::Context as _;
use serde_json::{Value, json};
use sharplab_minimalist::theory::{difficulty, predicted_sharpness};
use sharplab_minimalist::{
    DEFAULT_CUTOFF, Init, MinimalConfig, Reduced, ReducedModel, Status, initial_params, train,
};
use sharplab_nets::{Arch, Dataset, Loss, NetSpec, Precision, TrainState, save_checkpoint};

use super::timing::{Measurement, timed};

/// What to time, and how.
#[derive(Debug, Clone)]
pub struct MinimalistSettings {
    /// D, the depth (u and D − 1 scalars).
    pub depth: usize,
    /// Plain GD steps before the timed stretch.
    pub warmup_steps: usize,
    /// GD steps (each with the exact sharpness) per timed repeat.
    pub steps: usize,
    /// Timed repeats, each after one untimed run of a tenth of the steps.
    pub repeats: usize,
}

/// The starting point of the timed stretch, and what it took to get there.
struct WarmStart {
    lr: f64,
    u: Vec<f64>,
    v: Vec<f64>,
    rank: usize,
    warmup_seconds: f64,
}

/// Runs the benchmark on `data` (±1 targets, one output), writing the start of the timed
/// stretch as `minimalist.safetensors` (u [d], v [D − 1], f64) into `out` when given.
pub fn run(
    settings: &MinimalistSettings,
    data: &Dataset,
    out: Option<&Path>,
) -> anyhow::Result<(Measurement, Value)> {
    let (n, d) = (data.len(), data.input_dim());
    let reduced = Reduced::new(&data.x, n, d, &data.y, DEFAULT_CUTOFF)
        .context("minimalist benchmark data")?;
    let start = warm_start(settings, &reduced)?;
    let config = MinimalConfig {
        depth: settings.depth,
        lr: start.lr,
        steps: settings.steps,
        record_every: settings.steps,
        sharpness_every: 1,
        stop_at_convergence: false,
        init: Init::Explicit {
            u: start.u.clone(),
            v: start.v.clone(),
        },
        ..MinimalConfig::default()
    };
    let mut first_sharpness = f64::NAN;
    train(
        &reduced,
        &MinimalConfig {
            steps: (settings.steps / 10).max(1),
            ..config.clone()
        },
        |row| {
            if row.step == 0 {
                first_sharpness = row.sharpness.unwrap_or(f64::NAN);
            }
        },
    )?; // untimed

    let mut seconds = Vec::new();
    let mut last = None;
    for _ in 0..settings.repeats {
        let (summary, elapsed) = timed(|| train(&reduced, &config, |_| {}));
        let summary = summary?;
        if summary.status == Status::Diverged {
            anyhow::bail!(
                "minimalist benchmark: training diverged at step {} of the timed stretch: \
                 lower --minimalist-warmup",
                summary.steps_run
            );
        }
        seconds.push(elapsed);
        last = Some(summary);
    }
    let final_sharpness = last.map_or(f64::NAN, |s| s.final_sharpness);

    if let Some(dir) = out {
        save_start(dir, settings, data, &start)?;
    }
    let rates: Vec<f64> = seconds.iter().map(|s| settings.steps as f64 / s).collect();
    let measurement = Measurement::new("minimalist", seconds)
        .fact("examples", n)
        .fact("input_dim", d)
        .fact("depth", settings.depth)
        .fact("rank", start.rank)
        .fact("lr", start.lr)
        .fact("start_step", settings.warmup_steps)
        .fact("steps", settings.steps)
        .fact("steps_per_second", super::timing::spread_json(&rates))
        .fact("sharpness_start", first_sharpness)
        .fact("sharpness_end", final_sharpness)
        .fact(
            "warmup_steps_per_second",
            settings.warmup_steps as f64 / start.warmup_seconds,
        )
        .note(format!(
            "{:.0} GD steps/s with exact sharpness every step (steps {}..{}, S {:.1} → {:.1}, \
             2/η = {:.1}); warm-up without sharpness {:.0} steps/s",
            super::timing::spread(&rates).0,
            settings.warmup_steps,
            settings.warmup_steps + settings.steps,
            first_sharpness,
            final_sharpness,
            2.0 / start.lr,
            settings.warmup_steps as f64 / start.warmup_seconds,
        ));
    let setup = json!({
        "params": "minimalist.safetensors",
        "examples": n,
        "depth": settings.depth,
        "lr": start.lr,
        "start_step": settings.warmup_steps,
        "precision": "f64",
    });
    Ok((measurement, setup))
}

/// η = 1/Ŝ_D, and the parameters after `warmup_steps` plain GD steps from the default init.
fn warm_start(settings: &MinimalistSettings, reduced: &Reduced) -> anyhow::Result<WarmStart> {
    let facts = difficulty(reduced);
    let lr = 1.0 / predicted_sharpness(facts.sigma1_sq_over_n, facts.q, settings.depth);
    let config = MinimalConfig {
        depth: settings.depth,
        lr,
        init: Init::Random { scale: 0.1 },
        ..MinimalConfig::default()
    };
    config.validate(reduced.n(), reduced.d())?;
    let start = initial_params(reduced, &config);

    let model = ReducedModel::<f64>::new(reduced);
    let (mut alpha, mut v) = (start.alpha, start.v);
    let mut grad_alpha = vec![0.0; alpha.len()];
    let mut grad_v = vec![0.0; v.len()];
    let ((), warmup_seconds) = timed(|| {
        for _ in 0..settings.warmup_steps {
            model.gradient(&alpha, &v, &mut grad_alpha, &mut grad_v);
            alpha
                .iter_mut()
                .zip(&grad_alpha)
                .for_each(|(a, g)| *a -= lr * g);
            v.iter_mut().zip(&grad_v).for_each(|(x, g)| *x -= lr * g);
        }
    });
    let loss = model.loss(&alpha, &v);
    if !loss.is_finite() {
        anyhow::bail!(
            "minimalist benchmark: the warm-up diverged (loss {loss}): lower --minimalist-warmup"
        );
    }
    // u = Wα + (the part of u outside W, which GD never moves)
    let u = reduced
        .lift(&alpha)
        .iter()
        .zip(&start.outside)
        .map(|(inside, outside)| inside + outside)
        .collect();
    Ok(WarmStart {
        lr,
        u,
        v,
        rank: reduced.rank(),
        warmup_seconds,
    })
}

/// Writes u and v (f64) in the checkpoint format, as a minimalist net of depth D.
fn save_start(
    dir: &Path,
    settings: &MinimalistSettings,
    data: &Dataset,
    start: &WarmStart,
) -> anyhow::Result<()> {
    let state = TrainState {
        spec: NetSpec {
            arch: Arch::Minimalist,
            input_shape: data.input_shape,
            outputs: 1,
            depth: settings.depth,
            width: 0,
            bias: false,
        },
        step: settings.warmup_steps,
        params: vec![start.u.clone(), start.v.clone()],
        velocity: None,
    };
    save_checkpoint(
        &dir.join("minimalist.safetensors"),
        &state,
        Some(Loss::Mse),
        Precision::F64,
    )?;
    Ok(())
}
