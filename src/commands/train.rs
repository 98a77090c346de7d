//! `sharplab train`: trains a network (fc-*, cnn-*, minimalist) on a class subset with GD or
//! SGD, measuring its sharpness every few steps, and writes to `--out DIR`:
//!
//! - `trajectory.csv`: step, loss, accuracy, sharpness (empty when not measured), two_over_lr,
//!   hvps, one row per recorded step, streamed as training goes;
//! - `summary.json`: final loss, accuracy and sharpness, status, every [step, sharpness], the
//!   timings, the configuration and the data it ran on;
//! - `checkpoint.safetensors`: the final parameters, loadable in PyTorch (see
//!   `sharplab_nets::checkpoint`), which `--resume` continues from.
//!
//! A run resumed into the folder it was checkpointed in keeps the earlier rows of its
//! `trajectory.csv`, so the file covers the whole run.
//!
//! # Limitations
//!
//! - A checkpoint records the network, not the data: resuming on another subset is not caught.
//! - A resumed SGD run does not continue the interrupted epoch's order of batches.

use std::fs::File;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use sharplab_data::Targets;
use sharplab_nets::{
    Arch, BackendKind, Dataset, Estimator, Loss, NetsError, Precision, Row, SharpnessOptions,
    TrainConfig, load_checkpoint, save_checkpoint,
};

use super::Context;
use super::subset_args::{SubsetArgs, load_subset};
use crate::experiment::store::{PendingFile, write_atomic};

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)] // `--lr -1` is refused by the checks, with a reason
pub struct TrainArgs {
    /// Architecture: fc-linear, fc-tanh, fc-relu, fc-elu, cnn-relu, cnn-tanh, minimalist.
    #[arg(long, default_value = "fc-tanh")]
    pub arch: String,
    /// Hidden layers of the fc nets; the depth D of the minimalist model.
    #[arg(long, default_value_t = 2)]
    pub depth: usize,
    /// Hidden width of the fc nets.
    #[arg(long, default_value_t = 200)]
    pub width: usize,
    /// Layers without biases.
    #[arg(long)]
    pub no_bias: bool,
    /// Init bound multiplier: weights uniform in ±scale/√fan_in (1 = PyTorch's default).
    #[arg(long, default_value_t = 1.0)]
    pub init_scale: f64,
    /// Seed of the initialisation and of SGD's batches.
    #[arg(long, default_value_t = 0)]
    pub init_seed: u64,

    #[command(flatten)]
    pub subset: SubsetArgs,
    /// Number of training examples N.
    #[arg(long, default_value_t = 1000)]
    pub n: usize,
    /// Regression targets for MSE: onehot (k outputs) or pm1 (one output, two classes).
    /// Cross-entropy always uses the class; the minimalist model always uses pm1.
    #[arg(long, default_value = "onehot")]
    pub targets: String,

    /// Loss: mse (mean of ½‖f − y‖²) or ce (cross-entropy).
    #[arg(long, default_value = "mse")]
    pub loss: String,
    /// Optimizer: gd (full batch) or sgd (needs --batch-size).
    #[arg(long, default_value = "gd")]
    pub opt: String,
    /// Step size η.
    #[arg(long, default_value_t = 0.01)]
    pub lr: f64,
    /// Momentum μ (heavy ball unless --nesterov).
    #[arg(long, default_value_t = 0.0)]
    pub momentum: f64,
    /// Nesterov momentum.
    #[arg(long)]
    pub nesterov: bool,
    /// Mini-batch size B (SGD).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Last step.
    #[arg(long, default_value_t = 1000)]
    pub steps: usize,
    /// Stop once the training loss is at or below this.
    #[arg(long)]
    pub loss_goal: Option<f64>,
    /// Stop once the training accuracy is at or above this (0..1).
    #[arg(long)]
    pub acc_goal: Option<f64>,
    /// SGD: evaluate the full training loss every this many steps.
    #[arg(long, default_value_t = 1)]
    pub eval_every: usize,

    /// Measure sharpness every this many steps and at the end (0: only at the end).
    #[arg(long, default_value_t = 20)]
    pub sharpness_every: usize,
    /// Eigen-solver: lanczos or power.
    #[arg(long, default_value = "lanczos")]
    pub estimator: String,
    /// Relative residual at which the eigen-solver stops.
    #[arg(long, default_value_t = 1e-3)]
    pub sharpness_tol: f64,
    /// Most Hessian-vector products per sharpness estimate.
    #[arg(long, default_value_t = 100)]
    pub max_hvps: usize,
    /// Measure sharpness on the first this many training examples (default: all N).
    #[arg(long)]
    pub sharpness_n: Option<usize>,
    /// Start every K-th sharpness measurement from a random vector rather than the previous
    /// top eigenvector, to catch an eigenvalue that overtook it (0: only the first).
    #[arg(long, default_value_t = 10)]
    pub sharpness_cold_every: usize,

    /// Backend: cpu or wgpu (the latter needs a build with --features wgpu).
    #[arg(long, default_value = "cpu")]
    pub backend: String,
    /// Precision: f32 or f64.
    #[arg(long, default_value = "f32")]
    pub precision: String,
    /// Examples per chunk when accumulating gradients and HVPs.
    #[arg(long, default_value_t = 1000)]
    pub chunk_size: usize,

    /// Continue from this checkpoint (its step, parameters and momentum buffer).
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Print the summary as JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

impl TrainArgs {
    /// The library configuration these flags describe.
    pub fn config(&self) -> Result<TrainConfig, NetsError> {
        let batch_size = match self.opt.as_str() {
            "gd" => {
                if let Some(batch) = self.batch_size {
                    return Err(NetsError::config(
                        "batch size",
                        batch,
                        "--batch-size needs --opt sgd (GD uses every example)",
                    ));
                }
                None
            }
            "sgd" => Some(self.batch_size.ok_or_else(|| {
                NetsError::config("batch size", "none", "--opt sgd needs --batch-size B")
            })?),
            other => {
                return Err(NetsError::UnknownChoice {
                    what: "optimizer",
                    name: other.to_string(),
                    choices: "gd, sgd",
                });
            }
        };
        Ok(TrainConfig {
            arch: self.arch.parse()?,
            depth: self.depth,
            width: self.width,
            bias: !self.no_bias,
            init_scale: self.init_scale,
            seed: self.init_seed,
            loss: self.loss.parse()?,
            lr: self.lr,
            momentum: self.momentum,
            nesterov: self.nesterov,
            batch_size,
            steps: self.steps,
            loss_goal: self.loss_goal,
            acc_goal: self.acc_goal,
            eval_every: self.eval_every,
            sharpness_every: self.sharpness_every,
            sharpness_examples: self.sharpness_n,
            sharpness_cold_every: self.sharpness_cold_every,
            sharpness: SharpnessOptions {
                estimator: self.estimator.parse::<Estimator>()?,
                top_k: 1,
                tol: self.sharpness_tol,
                max_products: self.max_hvps,
                seed: self.init_seed,
            },
            chunk_size: self.chunk_size,
            backend: self.backend.parse::<BackendKind>()?,
            precision: self.precision.parse::<Precision>()?,
        })
    }

    /// Which targets the run regresses on.
    fn targets(&self, config: &TrainConfig) -> anyhow::Result<Targets> {
        if config.arch == Arch::Minimalist {
            return Ok(Targets::PlusMinusOne);
        }
        if config.loss == Loss::CrossEntropy {
            return Ok(Targets::OneHot);
        }
        match self.targets.as_str() {
            "onehot" => Ok(Targets::OneHot),
            "pm1" => Ok(Targets::PlusMinusOne),
            other => anyhow::bail!("unknown targets `{other}`: use onehot or pm1"),
        }
    }
}

/// The header and the rows before step `before` of an existing trajectory, when it has the
/// columns this version writes (`step` first) and reaches step `before` (so that it is the
/// trajectory of the run the checkpoint came from); `None`, with a warning, otherwise.
fn earlier_rows(
    path: &std::path::Path,
    before: usize,
) -> Option<(csv::StringRecord, Vec<csv::StringRecord>)> {
    let mut reader = csv::Reader::from_path(path).ok()?;
    let header = reader.headers().ok()?.clone();
    let expected = [
        "step",
        "loss",
        "accuracy",
        "sharpness",
        "two_over_lr",
        "hvps",
    ];
    if header.iter().collect::<Vec<_>>() != expected {
        tracing::warn!(
            "{} has other columns; the resumed run's trajectory starts at the checkpoint",
            path.display()
        );
        return None;
    }
    let mut rows = Vec::new();
    let mut reaches_checkpoint = false;
    for record in reader.records() {
        let step = record
            .as_ref()
            .ok()
            .and_then(|r| r.get(0)?.parse::<usize>().ok());
        let (Ok(record), Some(step)) = (record, step) else {
            tracing::warn!(
                "{} has an unreadable row; the resumed run's trajectory starts at the checkpoint",
                path.display()
            );
            return None;
        };
        reaches_checkpoint |= step == before;
        if step < before {
            rows.push(record);
        }
    }
    if !reaches_checkpoint {
        // not the trajectory of the run this checkpoint came from
        tracing::warn!(
            "{} has no row at the checkpoint's step {before}; the resumed run's trajectory \
             starts at the checkpoint",
            path.display()
        );
        return None;
    }
    Some((header, rows))
}

pub fn run(ctx: &Context, args: &TrainArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    let subset = load_subset(ctx, &args.subset, args.n)?;
    let targets = args.targets(&config)?;
    let y = subset
        .targets(targets)
        .with_context(|| format!("targets {targets}"))?;
    let outputs = if targets == Targets::OneHot {
        subset.num_classes()
    } else {
        1
    };
    let data = Dataset::new(subset.x.clone(), y, subset.shape, outputs)?;
    let resume = match &args.resume {
        Some(path) => Some(
            load_checkpoint(path)
                .context("--resume: pass a checkpoint.safetensors that `sharplab train` wrote")?
                .state,
        ),
        None => None,
    };
    if let Some(state) = &resume
        && state.step >= config.steps
    {
        anyhow::bail!(
            "--resume: the checkpoint is at step {}, and --steps {} counts from the start: \
             pass --steps above {}",
            state.step,
            config.steps,
            state.step
        );
    }

    // Refuse bad settings before anything is written.
    config.validate(data.len())?;
    config.net_spec(data.input_shape, data.outputs).validate()?;

    super::create_out_dir(&args.out)?;
    let trajectory_path = args.out.join("trajectory.csv");
    let pending = PendingFile::new(&trajectory_path)?;
    let trajectory_tmp = pending.temp_path().to_path_buf();
    let file = File::create(&trajectory_tmp)
        .with_context(|| format!("cannot write {}", trajectory_tmp.display()))?;
    // Resumed into the folder of the run it continues: keep that run's rows before the
    // checkpoint, so that trajectory.csv covers the whole run.
    let earlier = match &resume {
        Some(state) => earlier_rows(&trajectory_path, state.step),
        None => None,
    };
    let mut writer = csv::WriterBuilder::new()
        .has_headers(earlier.is_none())
        .from_writer(file);
    if let Some((header, rows)) = &earlier {
        for record in std::iter::once(header).chain(rows) {
            writer
                .write_record(record)
                .with_context(|| format!("cannot write {}", trajectory_tmp.display()))?;
        }
    }
    let progress = progress_bar(ctx, &config, resume.as_ref().map_or(0, |s| s.step));

    let mut observer = |row: &Row| -> Result<(), NetsError> {
        writer
            .serialize(row)
            .and_then(|()| writer.flush().map_err(csv::Error::from))
            .map_err(|err| NetsError::Observer(format!("{}: {err}", trajectory_tmp.display())))?;
        progress.set_position(row.step as u64);
        if let Some(sharpness) = row.sharpness {
            progress.set_message(format!(
                "loss {:.4}  acc {:.3}  λ_max {sharpness:.2} (2/η = {:.1})",
                row.loss, row.accuracy, row.two_over_lr
            ));
        }
        Ok(())
    };
    // On an error, dropping `pending` removes the temporary trajectory.
    let outcome = sharplab_nets::train(&config, &data, resume, &mut observer)?;
    drop(writer);
    progress.finish_and_clear();
    pending.commit()?;

    let checkpoint_path = args.out.join("checkpoint.safetensors");
    save_checkpoint(
        &checkpoint_path,
        &outcome.state,
        Some(config.loss),
        config.precision,
    )?;
    let summary = serde_json::json!({
        "status": outcome.summary.status,
        "final_step": outcome.summary.final_step,
        "final_loss": outcome.summary.final_loss,
        "final_accuracy": outcome.summary.final_accuracy,
        "final_sharpness": outcome.summary.final_sharpness,
        "sharpness": outcome.summary.sharpness,
        "two_over_lr": outcome.summary.two_over_lr,
        "num_params": outcome.summary.num_params,
        "num_examples": outcome.summary.num_examples,
        "hvps": outcome.summary.hvps,
        "seconds": outcome.summary.seconds,
        "seconds_per_step": outcome.summary.seconds_per_step,
        "seconds_per_hvp": outcome.summary.seconds_per_hvp,
        "config": config,
        "data": {
            "dataset": subset.dataset.to_string(),
            "split": subset.split.to_string(),
            "classes": subset.class_names,
            "n": subset.n,
            "shape": subset.shape,
            "standardize": subset.standardize.to_string(),
            "targets": targets.to_string(),
        },
        "checkpoint": checkpoint_path,
    });
    let text = serde_json::to_string_pretty(&summary)?;
    write_atomic(&args.out.join("summary.json"), text.as_bytes())?;
    crate::report::plot_run(
        &trajectory_path,
        &args.out.join("trajectory.png"),
        &format!(
            "{} on {} (N = {}), {}: sharpness against 2/η",
            config.arch,
            subset.dataset,
            subset.n,
            config.loss.name()
        ),
        format!("η = {}", config.lr),
        None,
    )?;

    if args.json {
        println!("{text}");
    } else if !ctx.quiet {
        let s = &outcome.summary;
        println!(
            "{} at step {}: loss {}, accuracy {:.4}, sharpness {} (2/η = {:.2}); {:.3} s/step, \
             {:.3} s/HVP; wrote {}",
            s.status,
            s.final_step,
            crate::report::format_number(s.final_loss),
            s.final_accuracy,
            s.final_sharpness
                .map_or("-".to_string(), |v| format!("{v:.3}")),
            s.two_over_lr,
            s.seconds_per_step,
            s.seconds_per_hvp,
            args.out.display()
        );
    }
    Ok(())
}

fn progress_bar(ctx: &Context, config: &TrainConfig, start: usize) -> ProgressBar {
    if ctx.quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(config.steps as u64);
    bar.set_position(start as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} steps {elapsed} {msg}") {
        bar.set_style(style);
    }
    bar
}
