//! `sharplab run FILE`: one experiment file, or one shard of its sweep, into a results folder,
//! then its part of the report.

use std::path::PathBuf;

use clap::Args;

use super::Context;
use crate::experiment::runner::{self, Progress, RunnerOptions};
use crate::experiment::spec::{ExperimentFile, Scale, Shard};
use crate::report;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The experiment file (experiments/<claim>.toml).
    pub file: PathBuf,

    /// Results folder.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,

    /// Run only slice i of n of the sweep (1 ≤ i ≤ n), e.g. for a Slurm job array.
    #[arg(long)]
    pub shard: Option<Shard>,

    #[command(flatten)]
    pub how: HowArgs,
}

/// The flags `run` and `reproduce` share: the scale of the sweep and the backend.
#[derive(Debug, Args)]
pub struct HowArgs {
    /// The smoke-test scale (each file's [quick] table): minutes on 2 cores.
    #[arg(long, conflicts_with = "full")]
    pub quick: bool,

    /// The paper's scale (each file's [full] table): hours on a CPU; a GPU helps.
    #[arg(long)]
    pub full: bool,

    /// Backend of the network runs: cpu, or wgpu (a build with `--features wgpu`).
    #[arg(long, default_value = "cpu")]
    pub backend: String,
}

impl HowArgs {
    /// `--quick` / `--full` / neither, as a [`Scale`].
    pub fn scale(&self) -> Scale {
        match (self.quick, self.full) {
            (true, _) => Scale::Quick,
            (_, true) => Scale::Full,
            _ => Scale::Default,
        }
    }

    /// The `--backend` name, refused up front when this build lacks it.
    pub fn backend(&self) -> anyhow::Result<sharplab_nets::BackendKind> {
        let backend: sharplab_nets::BackendKind = self.backend.parse()?;
        if backend == sharplab_nets::BackendKind::Wgpu && !cfg!(feature = "wgpu") {
            return Err(sharplab_nets::NetsError::BackendNotBuilt.into());
        }
        Ok(backend)
    }
}

pub fn run(ctx: &Context, args: &RunArgs) -> anyhow::Result<()> {
    let file = ExperimentFile::load(&args.file)?.at_scale(args.how.scale());
    crate::experiment::store::install_interrupt_handler();
    let options = RunnerOptions {
        out: args.out.clone(),
        data_dir: ctx.data_dir.clone(),
        shard: args.shard,
        backend: args.how.backend()?,
    };
    let total = runner::selected_runs(&file, args.shard).len();
    let progress = Progress::new(total, ctx.quiet);
    let tally = runner::run_experiment(&file, &options, &progress)?;
    progress.finish();
    let built = report::build_experiment(&args.out, &file.name)?;
    tracing::info!(
        "{}: {} run(s) ran, {} already complete, {} diverged; verdict so far: {}",
        file.name,
        tally.ran,
        tally.skipped,
        tally.diverged,
        built.outcome.label()
    );
    if !built.missing.is_empty() {
        tracing::info!(
            "{} run(s) of the sweep are not in {} yet (other shards?)",
            built.missing.len(),
            args.out.display()
        );
    }
    Ok(())
}
