//! `sharplab data`: decode CIFAR-10 once into the cache (`prepare`), print a dataset's counts
//! and channel statistics (`info`), and write a preprocessed subset as safetensors (`export`)
//! for PyTorch or NumPy.
//!
//! # Limitations
//!
//! - `prepare` handles CIFAR-10 only; Fashion-MNIST is read from its idx files directly.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use sharplab_data::{
    DatasetInfo, DatasetName, SplitInfo, Targets, export_safetensors, info, prepare_cifar10,
};

use super::Context;
use super::subset_args::{SubsetArgs, load_once, load_subset};

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Decode CIFAR-10 once into <data-dir>/cifar10/ (about a second to load afterwards).
    Prepare(PrepareArgs),
    /// Images per split and class, and channel means and deviations (0..255).
    Info(InfoArgs),
    /// Write a preprocessed subset as safetensors: x f32 [n, d], y the targets.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// CIFAR-10 source: the folder holding cifar10-jpeg-q75.tar.gz and SHA256SUMS, a .tar.gz
    /// of train/<class>/ and test/<class>/ images or of cifar-10-batches-bin/, such an image
    /// folder, or cifar-10-batches-bin/. Default: ../shared/cifar10.
    #[arg(long, value_name = "PATH")]
    pub from: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Dataset: cifar10 or fashion-mnist.
    #[arg(long, default_value = "cifar10")]
    pub dataset: DatasetName,

    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output file (.safetensors), written atomically.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Targets y: onehot (f32 [n, k]), index (i64 [n]) or pm1 (f32 [n], two classes, first
    /// listed +1).
    #[arg(long, default_value = "onehot")]
    pub targets: Targets,

    /// Number of examples N.
    #[arg(long)]
    pub n: usize,

    #[command(flatten)]
    pub subset: SubsetArgs,
}

pub fn run(ctx: &Context, cmd: &DataCommand) -> anyhow::Result<()> {
    match cmd {
        DataCommand::Prepare(args) => prepare(ctx, args),
        DataCommand::Info(args) => print_info(ctx, args),
        DataCommand::Export(args) => export(ctx, args),
    }
}

fn prepare(ctx: &Context, args: &PrepareArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let summary = prepare_cifar10(args.from.as_deref(), &ctx.data_dir).context("data prepare")?;
    if !ctx.quiet {
        let order = match summary.shuffle_seed {
            Some(seed) => format!("shuffled once with seed {seed}"),
            None => "original order kept".to_string(),
        };
        println!(
            "wrote {}: {} train + {} test images from {} ({:?}, {order}) in {:.1} s",
            summary.cache_dir.display(),
            summary.train_count,
            summary.test_count,
            summary.source.display(),
            summary.kind,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn print_info(ctx: &Context, args: &InfoArgs) -> anyhow::Result<()> {
    let dataset = load_once(args.dataset, &ctx.data_dir)?;
    let report = info(dataset);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(())
}

/// The plain-text form of `info`: one row per class, then one per channel.
fn table(report: &DatasetInfo) -> String {
    let [channels, height, width] = report.image_shape;
    let (train, test) = (&report.splits.train, &report.splits.test);
    let width_of_names = report
        .classes
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(5)
        .max(7);
    let mut out = format!(
        "{}: {} classes, images {channels}x{height}x{width}\n\n{:<w$}  {:>7}  {:>7}\n",
        report.dataset,
        report.classes.len(),
        "class",
        "train",
        "test",
        w = width_of_names
    );
    for (class, name) in report.classes.iter().enumerate() {
        out += &format!(
            "{name:<w$}  {:>7}  {:>7}\n",
            train.per_class[class],
            test.per_class[class],
            w = width_of_names
        );
    }
    out += &format!(
        "{:<w$}  {:>7}  {:>7}\n\n",
        "total",
        train.count,
        test.count,
        w = width_of_names
    );
    out += "channel  train mean  train std  test mean  test std   (0..255)\n";
    for channel in 0..channels {
        let cell = |split: &SplitInfo| (split.channel_mean[channel], split.channel_std[channel]);
        let ((train_mean, train_std), (test_mean, test_std)) = (cell(train), cell(test));
        out += &format!(
            "{channel:<7}  {train_mean:>10.2}  {train_std:>9.2}  {test_mean:>9.2}  {test_std:>8.2}\n"
        );
    }
    out
}

fn export(ctx: &Context, args: &ExportArgs) -> anyhow::Result<()> {
    if args
        .out
        .extension()
        .is_some_and(|ext| !ext.eq_ignore_ascii_case("safetensors"))
    {
        anyhow::bail!(
            "--out {}: export writes safetensors only; name the file *.safetensors (NumPy reads \
             it with safetensors.numpy.load_file, PyTorch with safetensors.torch.load_file)",
            args.out.display()
        );
    }
    if args.out.is_dir() {
        anyhow::bail!(
            "--out {} is a folder: pass a file name such as {}",
            args.out.display(),
            args.out.join("subset.safetensors").display()
        );
    }
    let subset = load_subset(ctx, &args.subset, args.n)?;
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("--out: cannot create the folder {}", parent.display()))?;
    }
    export_safetensors(&subset, args.targets, &args.out).context("data export")?;
    if !ctx.quiet {
        let y_shape = match args.targets {
            Targets::OneHot => format!("f32 [{}, {}]", subset.n, subset.num_classes()),
            Targets::ClassIndex => format!("i64 [{}]", subset.n),
            Targets::PlusMinusOne => format!("f32 [{}]", subset.n),
        };
        println!(
            "wrote {}: x f32 [{}, {}] (reshape to [{}, {}, {}, {}]), y {y_shape}, classes {}",
            args.out.display(),
            subset.n,
            subset.d,
            subset.n,
            subset.shape[0],
            subset.shape[1],
            subset.shape[2],
            subset.class_names.join(",")
        );
    }
    Ok(())
}
