//! `sharplab difficulty`: the dataset difficulty Q = ‖X⁺y‖², σ₁²/N, the rank kept by the
//! singular-value cut-off and the predicted sharpness Ŝ_D = (σ₁²/N)·Q^{(D−1)/D} of a two-class
//! subset with ±1 targets, for one or several subset sizes N.
//!
//! Plain output is a table, with the paper's published CIFAR-10 values of Q beside ours for
//! context; `--json` prints one object per N.
//!
//! # Limitations
//!
//! The paper does not state its class pair or preprocessing, so its Q values are context, not a
//! target: ours differ with the classes, the examples drawn and the standardization.

use std::collections::BTreeMap;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;
use sharplab_data::DatasetName;
use sharplab_minimalist::theory::{Difficulty, difficulty, predicted_sharpness};
use sharplab_minimalist::{DEFAULT_CUTOFF, Reduced};

use super::Context;
use super::subset_args::{SubsetArgs, TWO_CLASSES_FLAG, load_subset, plus_minus_one_targets};

/// The paper's two-class CIFAR-10 difficulties (Yoo, Song and Yun, ICML 2025), by N.
const PAPER_CIFAR10_Q: [(usize, f64); 3] = [(100, 0.22), (300, 1.70), (1000, 44.44)];

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)] // `--n -100` is refused as not a size, not as an unknown flag
pub struct DifficultyArgs {
    #[command(flatten)]
    pub subset: SubsetArgs,

    /// Subset sizes N, comma-separated (e.g. 100,300,1000).
    #[arg(long, value_delimiter = ',', required = true)]
    pub n: Vec<usize>,

    /// Depths D for the predicted sharpness Ŝ_D, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [2usize, 3, 4, 5])]
    pub depths: Vec<usize>,

    /// Relative cut-off: singular values σᵢ ≤ cutoff·σ₁ are dropped before computing Q.
    #[arg(long, default_value_t = DEFAULT_CUTOFF)]
    pub cutoff: f64,

    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One N's numbers, as `--json` prints them.
#[derive(Debug, Serialize)]
struct Row {
    n: usize,
    #[serde(rename = "Q")]
    q: f64,
    sigma1_sq_over_n: f64,
    /// Ŝ_D keyed by D.
    predicted_sharpness: BTreeMap<String, f64>,
    rank: usize,
    cutoff: f64,
    dropped: usize,
    /// The paper's Q at this N (CIFAR-10 only), for context.
    #[serde(skip_serializing_if = "Option::is_none")]
    paper_q: Option<f64>,
}

pub fn run(ctx: &Context, args: &DifficultyArgs) -> anyhow::Result<()> {
    if let Some(&depth) = args.depths.iter().find(|&&d| d == 0) {
        anyhow::bail!("--depths contains {depth}; use depths D >= 1");
    }
    let rows = args
        .n
        .iter()
        .map(|&n| measure(ctx, args, n))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print_table(args, &rows);
    }
    Ok(())
}

fn measure(ctx: &Context, args: &DifficultyArgs, n: usize) -> anyhow::Result<Row> {
    let chosen = load_subset(ctx, &args.subset, n)?;
    let y = plus_minus_one_targets(
        &chosen,
        "the dataset difficulty Q = ‖X⁺y‖²",
        TWO_CLASSES_FLAG,
    )?;
    let reduced = Reduced::new(&chosen.x, chosen.n, chosen.d, &y, args.cutoff)
        .with_context(|| format!("subset of N = {n}"))?;
    let facts: Difficulty = difficulty(&reduced);
    tracing::debug!(n, q = facts.q, rank = facts.rank, "difficulty measured");
    let predicted = args
        .depths
        .iter()
        .map(|&depth| {
            (
                depth.to_string(),
                predicted_sharpness(facts.sigma1_sq_over_n, facts.q, depth),
            )
        })
        .collect();
    let paper_q = match args.subset.dataset {
        DatasetName::Cifar10 => PAPER_CIFAR10_Q
            .iter()
            .find(|(size, _)| *size == n)
            .map(|(_, q)| *q),
        DatasetName::FashionMnist => None,
    };
    Ok(Row {
        n,
        q: facts.q,
        sigma1_sq_over_n: facts.sigma1_sq_over_n,
        predicted_sharpness: predicted,
        rank: facts.rank,
        cutoff: facts.cutoff,
        dropped: facts.dropped,
        paper_q,
    })
}

fn print_table(args: &DifficultyArgs, rows: &[Row]) {
    let subset = &args.subset;
    println!(
        "{} {} ({} split, {} standardization, cut-off {:e})",
        subset.dataset,
        subset.classes.as_deref().unwrap_or("all classes"),
        subset.split,
        subset.standardize,
        args.cutoff
    );
    let mut header = format!(
        "{:>7} {:>6} {:>7} {:>12} {:>9} {:>12}",
        "N", "rank", "dropped", "Q", "paper Q", "σ₁²/N"
    );
    for depth in &args.depths {
        header.push_str(&format!(" {:>12}", format!("Ŝ_{depth}")));
    }
    println!("{header}");
    for row in rows {
        let paper = row
            .paper_q
            .map(|q| format!("{q:.2}"))
            .unwrap_or_else(|| "-".into());
        let mut line = format!(
            "{:>7} {:>6} {:>7} {:>12.4} {:>9} {:>12.4}",
            row.n, row.rank, row.dropped, row.q, paper, row.sigma1_sq_over_n
        );
        for depth in &args.depths {
            line.push_str(&format!(
                " {:>12.4}",
                row.predicted_sharpness[&depth.to_string()]
            ));
        }
        println!("{line}");
    }
    if rows.iter().any(|row| row.paper_q.is_some()) {
        println!(
            "paper Q: Yoo, Song and Yun (ICML 2025), two-class CIFAR-10; their class pair and preprocessing are not stated"
        );
    }
}
