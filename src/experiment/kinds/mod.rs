//! The three kinds of run an experiment can sweep: the minimalist model, dataset difficulty,
//! and a burn network. Each reads its parameters, calls the library crate that does the work,
//! streams its trajectory, and returns a status and scalar metrics.
//!
//! Parameters shared by every kind describe the data: `dataset` (default "cifar10"),
//! `classes` (e.g. "cat,dog"; default all), or both at once as `pair = "cifar10:cat,dog"`, `n`, `seed` (default 0), `first_n` (Cohen et al.'s
//! "first N" selection instead of balanced sampling), `standardize` ("per-feature" default,
//! "per-channel", "none").
//!
//! # Limitations
//!
//! A loaded dataset is kept for the life of the process (about 180 MB for CIFAR-10).

mod difficulty;
mod minimalist;
mod network;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, anyhow};
use indicatif::ProgressBar;
use sharplab_data::{Dataset, DatasetName, Selection, Split, Standardize, Subset, SubsetSpec};

use super::params::ParamReader;
use super::spec::{RunKind, RunSpec};
use super::store::RunStatus;

/// What a run may use from the job.
pub struct KindContext<'a> {
    pub data_dir: &'a Path,
    /// The burn backend network runs use (`--backend`); results do not depend on it beyond
    /// rounding, so it is not part of a run's parameters.
    pub backend: sharplab_nets::BackendKind,
    pub bar: &'a ProgressBar,
}

/// What a run reports back.
pub struct KindOutput {
    pub status: RunStatus,
    pub metrics: BTreeMap<String, f64>,
    pub has_trajectory: bool,
}

/// The data parameters every kind reads.
const DATA_PARAMS: [&str; 7] = [
    "dataset",
    "classes",
    "pair",
    "n",
    "seed",
    "first_n",
    "standardize",
];

/// Every parameter a run of `kind` reads, so that a misspelt key in an experiment file is an
/// error rather than a silent default.
pub fn known_params(kind: RunKind) -> Vec<&'static str> {
    let own: &[&str] = match kind {
        RunKind::Difficulty => &[],
        RunKind::Minimalist => minimalist::PARAMS,
        RunKind::Network => network::PARAMS,
    };
    DATA_PARAMS.iter().chain(own).copied().collect()
}

/// Runs `run` as `kind`, writing its trajectory rows to `trajectory`.
pub fn execute(
    kind: RunKind,
    run: &RunSpec,
    ctx: &KindContext,
    trajectory: &mut csv::Writer<std::fs::File>,
) -> anyhow::Result<KindOutput> {
    match kind {
        RunKind::Difficulty => difficulty::execute(run, ctx),
        RunKind::Minimalist => minimalist::execute(run, ctx, trajectory),
        RunKind::Network => network::execute(run, ctx, trajectory),
    }
}

/// The dataset named by the run's `dataset` parameter, loaded once per process (the same
/// cache the commands use).
fn dataset(params: &ParamReader, data_dir: &Path) -> anyhow::Result<&'static Dataset> {
    let name: DatasetName = data_source(params)?.0.parse().map_err(|e| anyhow!("{e}"))?;
    crate::commands::subset_args::load_once(name, data_dir)
}

/// The dataset and class list of a run: `pair = "dataset:class,class"` when given (so one
/// sweep can cross datasets), else `dataset` (default "cifar10") and `classes`.
fn data_source(params: &ParamReader) -> anyhow::Result<(String, Option<String>)> {
    if let Some(pair) = params.opt_string("pair")? {
        let (dataset, classes) = pair.split_once(':').ok_or_else(|| {
            anyhow!("pair {pair:?}: write it as \"dataset:class,class\", e.g. \"cifar10:cat,dog\"")
        })?;
        return Ok((dataset.to_string(), Some(classes.to_string())));
    }
    let dataset = params
        .opt_string("dataset")?
        .unwrap_or_else(|| "cifar10".to_string());
    Ok((dataset, params.opt_string("classes")?))
}

/// The minimalist model's view of a two-class subset: its SVD with ±1 targets, the first
/// listed class +1. Errors when the subset does not have exactly two classes.
fn reduced_pm1(data: &Subset) -> anyhow::Result<sharplab_minimalist::Reduced> {
    let y = crate::commands::subset_args::plus_minus_one_targets(
        data,
        "the minimalist model",
        "set classes = \"a,b\" (e.g. \"cat,dog\")",
    )?;
    sharplab_minimalist::Reduced::new(
        &data.x,
        data.n,
        data.d,
        &y,
        sharplab_minimalist::DEFAULT_CUTOFF,
    )
    .context("the SVD of the subset")
}

/// The run's subset of `n` examples, from its data parameters.
fn subset(params: &ParamReader, data_dir: &Path, n: usize) -> anyhow::Result<Subset> {
    let ds = dataset(params, data_dir)?;
    let classes = data_source(params)?
        .1
        .map(|c| c.split(',').map(|s| s.trim().to_string()).collect());
    let selection = if params.bool("first_n", false)? {
        Selection::FirstN
    } else {
        Selection::Balanced {
            seed: params.opt_usize("seed")?.unwrap_or(0) as u64,
        }
    };
    let standardize: Standardize = params
        .opt_string("standardize")?
        .unwrap_or_else(|| "per-feature".to_string())
        .parse()
        .map_err(|e| anyhow!("{e}"))?;
    let spec = SubsetSpec {
        split: Split::Train,
        classes,
        n,
        selection,
        standardize,
    };
    sharplab_data::subset(ds, &spec).context("choosing the subset")
}
