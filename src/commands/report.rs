//! `sharplab report DIR`: rebuild the report from whatever runs are in a results folder.

use std::path::PathBuf;

use clap::Args;

use super::Context;
use crate::report;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The results folder that `run` or `reproduce` wrote.
    #[arg(default_value = "results")]
    pub dir: PathBuf,
}

pub fn run(_ctx: &Context, args: &ReportArgs) -> anyhow::Result<()> {
    let names = report::experiments_in(&args.dir)?;
    if names.is_empty() {
        anyhow::bail!(
            "{} holds no experiment results: run `sharplab run FILE --out {}` first",
            args.dir.display(),
            args.dir.display()
        );
    }
    let mut reports = Vec::new();
    for name in &names {
        let built = report::build_experiment(&args.dir, name)?;
        if !built.missing.is_empty() {
            tracing::warn!(
                "{name}: {} of {} runs missing: {}",
                built.missing.len(),
                report::stored_runs(&args.dir, name)?.len(),
                built.missing.join(", ")
            );
        }
        reports.push(built);
    }
    let path = report::write_report(&args.dir, &reports)?;
    println!("{}", path.display());
    Ok(())
}
