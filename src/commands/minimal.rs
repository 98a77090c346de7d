//! `sharplab minimal`: train the minimalist model f(x) = (xᵀu)·v₁⋯v_{D−1} on a two-class subset
//! with ±1 targets by GD, SGD (`--batch-size B`) or gradient flow (`--flow`), with the exact
//! sharpness every step, and write `DIR/trajectory.csv` (one row per recorded step) and
//! `DIR/summary.json` (final loss and sharpness, Ŝ_D, bounds, status), both atomically.
//!
//! A diverging run is not an error: it stops, keeps its trajectory, writes its summary with
//! status `diverged`, prints a note on standard error, and exits 0. Invalid input (D = 0,
//! η ≤ 0 or non-finite, B = 0 or B > N, N larger than the classes hold, non-finite data)
//! is an error: one line, exit 2.
//!
//! # Limitations
//!
//! The trajectory is written while the run goes, to `trajectory.csv.tmp`, and renamed at the
//! end; an interrupted run leaves only the `.tmp` file.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use serde::Serialize;
use sharplab_minimalist::{
    DEFAULT_CUTOFF, Init, Method, MinimalConfig, Precision, Reduced, Status, Summary,
    TrajectoryRow, train,
};

use super::Context;
use super::subset_args::{SubsetArgs, TWO_CLASSES_FLAG, load_subset, plus_minus_one_targets};
use crate::experiment::store::{PendingFile, write_atomic};

/// The training arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    F64,
    F32,
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)] // `--lr -1` is refused by the checks, with a reason
pub struct MinimalArgs {
    #[command(flatten)]
    pub subset: SubsetArgs,

    /// N, the number of examples.
    #[arg(long)]
    pub n: usize,

    /// D ≥ 1: u plus D − 1 scalar layers (D = 1 is linear regression).
    #[arg(long, default_value_t = 2)]
    pub depth: usize,

    /// η > 0, the step size (the time unit for --flow: t = η·step).
    #[arg(long)]
    pub lr: f64,

    /// SGD with batches of B examples, without replacement within an epoch (default: GD).
    #[arg(long, conflicts_with = "flow")]
    pub batch_size: Option<usize>,

    /// Gradient flow (RK45, rtol 1e-10, atol 1e-12) to time η·steps instead of GD.
    #[arg(long)]
    pub flow: bool,

    /// Steps to run (gradient flow: time η·steps).
    #[arg(long, default_value_t = 10_000)]
    pub steps: usize,

    /// Training arithmetic: f64 or f32 (the sharpness is always computed in f64).
    #[arg(long, value_enum, default_value_t = PrecisionArg::F64)]
    pub precision: PrecisionArg,

    /// Record a trajectory row every k steps (and the first and last).
    #[arg(long, default_value_t = 1)]
    pub record_every: usize,

    /// Compute the exact sharpness every k steps (0: only in recorded rows).
    #[arg(long, default_value_t = 1)]
    pub sharpness_every: usize,

    /// Converged once the loss is within this of its minimum ‖y⊥‖²/2N.
    #[arg(long, default_value_t = MinimalConfig::default().loss_goal)]
    pub loss_goal: f64,

    /// Initial scale α: u ~ α·N(0, I/d), every vᵢ = α.
    #[arg(long, default_value_t = 0.1)]
    pub init_scale: f64,

    /// Start exactly balanced: ‖Π_W u‖ = |vᵢ| = α for every layer (C = 0).
    #[arg(long)]
    pub balanced: bool,

    /// Seed of the initialization and the SGD batch order.
    #[arg(long, default_value_t = 0)]
    pub init_seed: u64,

    /// Keep training after the loss goal is reached (default: stop there).
    #[arg(long)]
    pub no_early_stop: bool,

    /// Relative cut-off on the singular values of X.
    #[arg(long, default_value_t = DEFAULT_CUTOFF)]
    pub cutoff: f64,

    /// Output folder for trajectory.csv, trajectory.png and summary.json (created if missing).
    #[arg(long)]
    pub out: PathBuf,

    /// Print the summary as JSON instead of a short text.
    #[arg(long)]
    pub json: bool,
}

/// summary.json: where the data came from, then the library's summary.
#[derive(Debug, Serialize)]
struct Report<'a> {
    dataset: String,
    classes: Option<&'a str>,
    split: String,
    standardize: String,
    subset_seed: u64,
    #[serde(flatten)]
    summary: &'a Summary,
}

impl MinimalArgs {
    fn config(&self) -> MinimalConfig {
        let init = if self.balanced {
            Init::Balanced {
                scale: self.init_scale,
            }
        } else {
            Init::Random {
                scale: self.init_scale,
            }
        };
        let method = match (self.flow, self.batch_size) {
            (true, _) => Method::Flow,
            (false, Some(_)) => Method::Sgd,
            (false, None) => Method::Gd,
        };
        MinimalConfig {
            depth: self.depth,
            lr: self.lr,
            method,
            batch_size: self
                .batch_size
                .unwrap_or(MinimalConfig::default().batch_size),
            steps: self.steps,
            record_every: self.record_every,
            sharpness_every: self.sharpness_every,
            loss_goal: self.loss_goal,
            precision: match self.precision {
                PrecisionArg::F64 => Precision::F64,
                PrecisionArg::F32 => Precision::F32,
            },
            init,
            seed: self.init_seed,
            stop_at_convergence: !self.no_early_stop,
            ..MinimalConfig::default()
        }
    }
}

pub fn run(ctx: &Context, args: &MinimalArgs) -> anyhow::Result<()> {
    let config = args.config();
    let chosen = load_subset(ctx, &args.subset, args.n)?;
    let y = plus_minus_one_targets(&chosen, "the minimalist model", TWO_CLASSES_FLAG)?;
    config
        .validate(chosen.n, chosen.d)
        .context("invalid training settings")?;
    let reduced = Reduced::new(&chosen.x, chosen.n, chosen.d, &y, args.cutoff)
        .with_context(|| format!("{} subset of N = {}", args.subset.dataset, args.n))?;
    super::create_out_dir(&args.out)?;

    let csv_path = args.out.join("trajectory.csv");
    let pending = PendingFile::new(&csv_path)?;
    let csv_tmp = pending.temp_path().to_path_buf();
    let mut writer = csv::Writer::from_path(&csv_tmp)
        .with_context(|| format!("creating {}", csv_tmp.display()))?;
    writer.write_record(TrajectoryRow::csv_header(config.depth))?;
    let progress = progress_bar(ctx, config.steps);
    let mut write_error: Option<csv::Error> = None;
    let summary = train(&reduced, &config, |row| {
        progress.set_position(row.step as u64);
        if write_error.is_none() {
            write_error = writer.write_record(row.csv_record()).err();
        }
    })
    .context("training the minimalist model")?;
    progress.finish_and_clear();
    if let Some(err) = write_error {
        return Err(err).with_context(|| format!("writing {}", csv_tmp.display()));
    }
    writer
        .flush()
        .with_context(|| format!("writing {}", csv_tmp.display()))?;
    drop(writer);
    pending.commit()?;

    let report = Report {
        dataset: args.subset.dataset.to_string(),
        classes: args.subset.classes.as_deref(),
        split: args.subset.split.to_string(),
        standardize: args.subset.standardize.to_string(),
        subset_seed: args.subset.seed,
        summary: &summary,
    };
    let json = serde_json::to_string_pretty(&report)?;
    write_atomic(&args.out.join("summary.json"), json.as_bytes())?;
    crate::report::plot_run(
        &csv_path,
        &args.out.join("trajectory.png"),
        &format!(
            "minimalist model, D = {}, N = {}: sharpness against 2/η and Ŝ_D",
            config.depth, summary.n
        ),
        format!("η = {}", config.lr),
        Some(summary.predicted_sharpness),
    )?;

    if summary.status == Status::Diverged {
        eprintln!(
            "note: the run diverged after {} steps; the trajectory up to there is in {}",
            summary.steps_run,
            csv_path.display()
        );
    }
    if args.json {
        println!("{json}");
    } else {
        print_summary(args, &summary);
    }
    Ok(())
}

fn progress_bar(ctx: &Context, steps: usize) -> indicatif::ProgressBar {
    if ctx.quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(steps as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} steps ({per_sec}, eta {eta})")
    {
        bar.set_style(style);
    }
    bar
}

fn print_summary(args: &MinimalArgs, summary: &Summary) {
    let config = &summary.config;
    let method = match config.method {
        Method::Gd => "GD".to_string(),
        Method::Sgd => format!("SGD (B = {})", config.batch_size),
        Method::Flow => "gradient flow".to_string(),
    };
    println!(
        "{} {} N={} d={} rank={}: D={} {method}, η={} (2/η = {:.4}), {} steps run",
        args.subset.dataset,
        args.subset.classes.as_deref().unwrap_or(""),
        summary.n,
        summary.d,
        summary.rank,
        config.depth,
        config.lr,
        summary.two_over_lr,
        summary.steps_run
    );
    // Below this the least possible loss is rounding: y lies in the range of X.
    let least = if summary.min_loss < 1e-20 {
        "0: y lies in the range of X".to_string()
    } else {
        format!("{:.4e}", summary.min_loss)
    };
    println!(
        "status {}: final loss {:.4e} (least possible {least}), sharpness {:.6}",
        summary.status, summary.final_loss, summary.final_sharpness
    );
    let bounds = match summary.bounds_kind.as_str() {
        "imbalance_d2" => format!(
            "at a global minimum with this run's imbalance C = {:.4e}",
            summary.final_imbalance.unwrap_or(f64::NAN)
        ),
        "balanced" => {
            let gaps = summary
                .final_gaps
                .iter()
                .fold(0.0f64, |m, g| m.max(g.abs()));
            format!(
                "at a balanced global minimum (this run ends with C = {:.4e} and balance gaps up \
                 to {gaps:.4e}; an unbalanced run may end outside them)",
                summary.final_imbalance.unwrap_or(f64::NAN)
            )
        }
        "linear_exact" => "exact for D = 1".to_string(),
        other => other.to_string(),
    };
    println!(
        "theory: Q = {:.4}, σ₁²/N = {:.4}, Ŝ_{} = {:.6}, bounds [{:.6}, {:.6}] {bounds}",
        summary.difficulty,
        summary.sigma1_sq_over_n,
        config.depth,
        summary.predicted_sharpness,
        summary.lower_bound,
        summary.upper_bound,
    );
    println!(
        "wrote trajectory.csv, trajectory.png and summary.json to {}",
        args.out.display()
    );
}
