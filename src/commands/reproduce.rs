//! `sharplab reproduce`: every experiment file, then the report. The main job.

use std::path::PathBuf;

use clap::Args;

use super::Context;
use super::run::HowArgs;
use crate::experiment::runner::{self, Progress, RunnerOptions};
use crate::experiment::spec::ExperimentFile;
use crate::report;

#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Results folder.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,

    /// Folder of experiment files.
    #[arg(long, default_value = "experiments")]
    pub experiments: PathBuf,

    #[command(flatten)]
    pub how: HowArgs,

    /// Only the experiments whose names contain this text; the report still lists every
    /// experiment the results folder holds.
    #[arg(long)]
    pub only: Option<String>,
}

pub fn run(ctx: &Context, args: &ReproduceArgs) -> anyhow::Result<()> {
    let scale = args.how.scale();
    let mut files = Vec::new();
    for path in runner::experiment_files(&args.experiments)? {
        let file = ExperimentFile::load(&path)?;
        if args
            .only
            .as_ref()
            .is_none_or(|o| file.name.contains(o.as_str()))
        {
            files.push(file.at_scale(scale));
        }
    }
    if files.is_empty() {
        anyhow::bail!(
            "no experiment files matched in {}: check --experiments and --only",
            args.experiments.display()
        );
    }
    crate::experiment::store::install_interrupt_handler();
    let options = RunnerOptions {
        out: args.out.clone(),
        data_dir: ctx.data_dir.clone(),
        shard: None,
        backend: args.how.backend()?,
    };
    let total: usize = files.iter().map(|f| f.runs().len()).sum();
    let progress = Progress::new(total, ctx.quiet);
    let mut reports = Vec::new();
    for file in &files {
        runner::run_experiment(file, &options, &progress)?;
        reports.push(report::build_experiment(&args.out, &file.name)?);
    }
    progress.finish();
    if args.only.is_some() {
        // The report covers every experiment in the folder, not only the ones just run; one
        // that cannot be read (another version's, say) is left out with a warning.
        for name in report::experiments_in(&args.out)? {
            if reports.iter().any(|r| r.name == name) {
                continue;
            }
            match report::build_experiment(&args.out, &name) {
                Ok(built) => reports.push(built),
                Err(err) => tracing::warn!("{name} left out of the report: {err:#}"),
            }
        }
        reports.sort_by(|a, b| a.name.cmp(&b.name));
    }
    let path = report::write_report(&args.out, &reports)?;
    for r in &reports {
        tracing::info!("{:<32} {}", r.name, r.outcome.label());
    }
    tracing::info!("report: {}", path.display());
    Ok(())
}
