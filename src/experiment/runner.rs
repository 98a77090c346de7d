//! Running an experiment's sweep: each run in turn (or one shard of them), skipping runs
//! already complete, streaming each trajectory to a temporary CSV that is renamed into place
//! when the run ends, and writing the run's record last.
//!
//! # Limitations
//!
//! Runs of one process go one after another; parallelism comes from shards in separate
//! processes (`--shard i/n`), which may share a results folder.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::kinds;
use super::spec::{ExperimentFile, RunSpec, Shard};
use super::store::{ExperimentDir, PendingFile, RunRecord, RunStatus, write_atomic};

/// Where and how to run.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// The results folder (`--out`).
    pub out: PathBuf,
    /// The dataset cache.
    pub data_dir: PathBuf,
    /// Only this slice of each sweep.
    pub shard: Option<Shard>,
    /// The burn backend of network runs.
    pub backend: sharplab_nets::BackendKind,
}

/// The two progress bars of a job: all runs, and the current run's steps.
pub struct Progress {
    _multi: MultiProgress,
    pub overall: ProgressBar,
    pub current: ProgressBar,
}

impl Progress {
    pub fn new(total_runs: usize, quiet: bool) -> Self {
        let multi = MultiProgress::with_draw_target(if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        });
        let overall = multi.add(ProgressBar::new(total_runs as u64));
        overall.set_style(
            ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} runs {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        overall.set_prefix("job");
        let current = multi.add(ProgressBar::new(0));
        current.set_style(
            ProgressStyle::with_template(
                "{prefix:>10} [{bar:30}] {pos}/{len} steps {msg} ({elapsed}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        current.set_prefix("run");
        Progress {
            _multi: multi,
            overall,
            current,
        }
    }

    pub fn finish(&self) {
        self.current.finish_and_clear();
        self.overall.finish_and_clear();
    }
}

/// What one call of [`run_experiment`] did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub ran: usize,
    pub skipped: usize,
    pub diverged: usize,
}

/// The runs of `file` that belong to `shard`, in sweep order.
pub fn selected_runs(file: &ExperimentFile, shard: Option<Shard>) -> Vec<RunSpec> {
    file.runs()
        .into_iter()
        .enumerate()
        .filter(|(k, _)| shard.is_none_or(|s| s.contains(*k)))
        .map(|(_, run)| run)
        .collect()
}

/// Runs `file` (already resolved to its scale) into `options.out/<name>/`.
pub fn run_experiment(
    file: &ExperimentFile,
    options: &RunnerOptions,
    progress: &Progress,
) -> anyhow::Result<Tally> {
    let dir = ExperimentDir::new(&options.out, &file.name);
    let config = toml::to_string_pretty(file).context("serializing the experiment")?;
    write_atomic(&dir.config_path(), config.as_bytes())?;

    let mut tally = Tally::default();
    for run in selected_runs(file, options.shard) {
        progress
            .overall
            .set_message(format!("{} {}", file.name, run.id));
        if dir.finished(&run.id, &run.params).is_some() {
            tally.skipped += 1;
            progress.overall.inc(1);
            continue;
        }
        let record = run_one(file, &run, &dir, options, &progress.current)
            .with_context(|| format!("experiment {}, run {}", file.name, run.id))?;
        if record.status == RunStatus::Diverged {
            tally.diverged += 1;
            tracing::warn!("{} {}: diverged (recorded)", file.name, run.id);
        }
        tally.ran += 1;
        progress.overall.inc(1);
    }
    Ok(tally)
}

fn run_one(
    file: &ExperimentFile,
    run: &RunSpec,
    dir: &ExperimentDir,
    options: &RunnerOptions,
    bar: &ProgressBar,
) -> anyhow::Result<RunRecord> {
    bar.reset();
    bar.set_length(0);
    bar.set_message(run.id.clone());
    let csv_path = dir.trajectory_path(&run.id);
    let pending = PendingFile::new(&csv_path)?;
    let mut writer = csv::Writer::from_path(pending.temp_path())
        .with_context(|| format!("cannot write {}", csv_path.display()))?;
    let ctx = kinds::KindContext {
        data_dir: &options.data_dir,
        backend: options.backend,
        bar,
    };
    let output = kinds::execute(file.kind, run, &ctx, &mut writer)?;
    writer.flush()?;
    drop(writer);
    if output.has_trajectory {
        pending.commit()?;
    }
    let record = RunRecord {
        id: run.id.clone(),
        params: run.params.clone(),
        status: output.status,
        metrics: output.metrics,
        has_trajectory: output.has_trajectory,
    };
    let json = serde_json::to_string_pretty(&record)?;
    write_atomic(&dir.record_path(&run.id), json.as_bytes())?;
    Ok(record)
}

/// The experiment files in `folder`, sorted by name.
pub fn experiment_files(folder: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(folder).with_context(|| {
        format!(
            "cannot read {}: run from the repository root, or pass --experiments DIR",
            folder.display()
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}
