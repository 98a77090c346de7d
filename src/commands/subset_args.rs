//! The flags that choose a class subset of a dataset, shared by `difficulty`, `minimal`,
//! `train` and `data export` (`#[command(flatten)]`), and [`load_subset`], which turns them
//! into a preprocessed [`Subset`]. N is passed separately so a command can loop over several.
//!
//! # Limitations
//!
//! - A loaded dataset stays in memory for the rest of the process (so repeated calls do not
//!   reload it).

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context as _;
use sharplab_data::{
    Dataset, DatasetName, Selection, Split, Standardize, Subset, SubsetSpec, load, subset,
};

use super::Context;

/// Which examples to use and how to preprocess them.
#[derive(Debug, Clone, clap::Args)]
pub struct SubsetArgs {
    /// Dataset: cifar10 or fashion-mnist.
    #[arg(long, default_value = "cifar10")]
    pub dataset: DatasetName,

    /// Classes by name or index, comma-separated (e.g. `cat,dog` or `3,5`); the first listed
    /// is label 0 (and +1 for ±1 targets). Omitted: all classes.
    #[arg(long)]
    pub classes: Option<String>,

    /// Seed of the balanced random choice of examples.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Take the first N examples of the split among the chosen classes (Cohen et al.'s
    /// convention) instead of a balanced random choice.
    #[arg(long)]
    pub first_n: bool,

    /// Preprocessing after scaling to [0, 1], with the training split's statistics:
    /// per-feature, per-channel or none.
    #[arg(long, default_value = "per-feature")]
    pub standardize: Standardize,

    /// Split to take the examples from: train or test.
    #[arg(long, default_value = "train")]
    pub split: Split,
}

impl SubsetArgs {
    /// The library's description of the subset of `n` examples these flags ask for.
    pub fn spec(&self, n: usize) -> SubsetSpec {
        SubsetSpec {
            split: self.split,
            classes: self.classes.as_deref().map(|list| {
                list.split(',')
                    .map(|name| name.trim().to_string())
                    .collect()
            }),
            n,
            selection: if self.first_n {
                Selection::FirstN
            } else {
                Selection::Balanced { seed: self.seed }
            },
            standardize: self.standardize,
        }
    }
}

/// Loads the dataset (once per process) and takes the subset of `n` examples `args` describe.
pub fn load_subset(ctx: &Context, args: &SubsetArgs, n: usize) -> anyhow::Result<Subset> {
    let dataset = load_once(args.dataset, &ctx.data_dir)?;
    subset(dataset, &args.spec(n)).with_context(|| format!("{} subset of N = {n}", args.dataset))
}

/// The dataset from `data_dir`, loaded on the first call and kept for the process.
pub fn load_once(
    name: DatasetName,
    data_dir: &std::path::Path,
) -> anyhow::Result<&'static Dataset> {
    type Loaded = Vec<(DatasetName, PathBuf, &'static Dataset)>;
    static LOADED: Mutex<Loaded> = Mutex::new(Vec::new());

    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, _, dataset)) = loaded
        .iter()
        .find(|(known, dir, _)| *known == name && dir == data_dir)
    {
        return Ok(dataset);
    }
    let dataset: &'static Dataset = Box::leak(Box::new(
        load(name, data_dir).with_context(|| format!("loading {name}"))?,
    ));
    loaded.push((name, data_dir.to_path_buf(), dataset));
    Ok(dataset)
}

/// The ±1 targets of a two-class subset (the first listed class +1), or one error line saying
/// that `what` needs two classes, and `fix`, how to name them.
pub fn plus_minus_one_targets(subset: &Subset, what: &str, fix: &str) -> anyhow::Result<Vec<f64>> {
    subset
        .targets(sharplab_data::Targets::PlusMinusOne)
        .map_err(|_| {
            anyhow::anyhow!(
                "{what} fits ±1 targets and needs exactly two classes, not {}: {fix}",
                subset.num_classes()
            )
        })
}

/// How a command line names two classes, for [`plus_minus_one_targets`].
pub const TWO_CLASSES_FLAG: &str = "pass --classes a,b (e.g. cat,dog)";
