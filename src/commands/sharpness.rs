//! `sharplab sharpness`: the top Hessian eigenvalues of a saved network (a checkpoint from
//! `sharplab train`) on exported data (`sharplab data export`), with its loss and accuracy.
//!
//! # Limitations
//!
//! The loss is the checkpoint's unless `--loss` says otherwise; a checkpoint without one
//! (written by something else) defaults to MSE.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use sharplab_nets::dataset::load_exported;
use sharplab_nets::sharpness::measure_sharpness;
use sharplab_nets::{BackendKind, Estimator, Loss, Precision, SharpnessOptions, load_checkpoint};

use super::Context;

#[derive(Debug, Args)]
pub struct SharpnessArgs {
    /// Checkpoint written by `sharplab train` (safetensors).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Data written by `sharplab data export` (safetensors with x [n, d] and y).
    #[arg(long)]
    pub data: PathBuf,
    /// Number of top eigenvalues.
    #[arg(long, default_value_t = 1)]
    pub top_k: usize,
    /// Loss: mse or ce (default: the checkpoint's).
    #[arg(long)]
    pub loss: Option<String>,
    /// Eigen-solver: lanczos or power (power gives the top one only).
    #[arg(long, default_value = "lanczos")]
    pub estimator: String,
    /// Relative residual at which the solver stops.
    #[arg(long, default_value_t = 1e-6)]
    pub tol: f64,
    /// Most Hessian-vector products.
    #[arg(long, default_value_t = 300)]
    pub max_hvps: usize,
    /// Backend: cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    pub backend: String,
    /// Precision: f32 or f64.
    #[arg(long, default_value = "f64")]
    pub precision: String,
    /// Examples per chunk.
    #[arg(long, default_value_t = 1000)]
    pub chunk_size: usize,
    /// Seed of the random start vector.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: &SharpnessArgs) -> anyhow::Result<()> {
    let estimator: Estimator = args.estimator.parse()?;
    let backend: BackendKind = args.backend.parse()?;
    let precision: Precision = args.precision.parse()?;
    if args.top_k == 0 {
        anyhow::bail!("invalid --top-k 0: use 1 or more");
    }
    if estimator == Estimator::Power && args.top_k > 1 {
        anyhow::bail!(
            "--estimator power gives only the top eigenvalue: use --estimator lanczos for --top-k {}",
            args.top_k
        );
    }
    let checkpoint = load_checkpoint(&args.checkpoint)
        .context("--checkpoint: pass a checkpoint.safetensors that `sharplab train` wrote")?;
    let loss: Loss = match &args.loss {
        Some(name) => name.parse()?,
        None => checkpoint.loss.unwrap_or_default(),
    };
    let spec = &checkpoint.state.spec;
    let data = load_exported(&args.data, spec.input_shape, spec.outputs)
        .context("--data: pass a file that `sharplab data export` wrote for this network")?;
    let options = SharpnessOptions {
        estimator,
        top_k: args.top_k,
        tol: args.tol,
        max_products: args.max_hvps,
        seed: args.seed,
    };
    let measurement = measure_sharpness(
        spec,
        &checkpoint.state.params,
        loss,
        &data,
        &options,
        backend,
        precision,
        args.chunk_size,
    )?;

    let estimate = &measurement.estimate;
    if args.json {
        let report = serde_json::json!({
            "checkpoint": args.checkpoint,
            "data": args.data,
            "arch": spec.arch,
            "step": checkpoint.state.step,
            "n": data.len(),
            "loss": measurement.evaluation.loss,
            "accuracy": measurement.evaluation.accuracy,
            "sharpness": estimate.sharpness(),
            "eigenvalues": estimate.values,
            "residuals": estimate.residuals,
            "hvps": estimate.products,
            "converged": estimate.converged,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if !ctx.quiet {
        println!(
            "{} at step {} on N = {}: loss {:.6}, accuracy {:.4}",
            spec.arch,
            checkpoint.state.step,
            data.len(),
            measurement.evaluation.loss,
            measurement.evaluation.accuracy
        );
        for (i, (value, residual)) in estimate.values.iter().zip(&estimate.residuals).enumerate() {
            println!(
                "λ_{} = {value:.8}  (relative residual {residual:.1e})",
                i + 1
            );
        }
        println!(
            "{} Hessian-vector products{}",
            estimate.products,
            if estimate.converged {
                ""
            } else {
                " (not converged: raise --max-hvps)"
            }
        );
    }
    Ok(())
}
