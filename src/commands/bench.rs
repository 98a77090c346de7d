//! `sharplab bench`: times sharplab's kernels on real CIFAR-10 with a fixed number of CPU
//! threads (default 2) — a full-batch GD step, an exact Hessian-vector product and a sharpness
//! estimate (cold and warm-started) of fc-tanh 3072-200-200-10 on N = 5,000 and of cnn-relu on
//! N = 1,000; the minimalist model's GD steps per second with the exact sharpness every step;
//! and the peak rate of a large f32 matrix product — and prints median, min and max seconds of
//! each, as a table or as one JSON document (`--json`).
//!
//! With `--out DIR` it also writes what every benchmark starts from (θ₀ of each network, the
//! minimalist model's warm start, `setup.json` naming the data and settings), so that
//! `benches/reference.py` does the same work in PyTorch on identical data and parameters;
//! `benches/compare.sh` runs the two alternately and reports the ratios (benches/README.md).
//!
//! # Limitations
//!
//! The thread count is set through `RAYON_NUM_THREADS` at the start of the command, before
//! burn-flex starts its thread pool; it cannot change afterwards within the process. The wgpu
//! backend needs a build with `--features wgpu`; only the network benchmarks and the matmul
//! use the backend (the minimalist model is plain f64 arithmetic on the CPU).

mod matmul;
mod minimalist;
mod networks;
mod timing;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use burn_backend::Backend;
use clap::Args;
use serde_json::{Value, json};
use sharplab_data::{DatasetName, Split, Standardize, Targets, export_safetensors};
use sharplab_nets::checkpoint::write_atomically;
use sharplab_nets::dataset::load_exported;
use sharplab_nets::{Arch, BackendKind, Dataset, Precision};

use self::minimalist::MinimalistSettings;
use self::networks::{NetworkSettings, Parts};
use self::timing::Measurement;
use super::Context;
use super::subset_args::{SubsetArgs, load_subset};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A smoke test: 3 repeats, a minimalist stretch of 20,000 steps, and no cnn-relu
    /// sharpness (the slowest benchmark; name it in --only to keep it).
    #[arg(long)]
    pub quick: bool,
    /// Timed repeats of each GD step, HVP, minimalist stretch and matmul [default: 5, or 3
    /// with --quick].
    #[arg(long)]
    pub repeats: Option<usize>,
    /// Cold and warm sharpness estimates per network, each pair from its own random start.
    #[arg(long, default_value_t = 1)]
    pub sharpness_repeats: usize,
    /// Run only these, comma-separated: a benchmark (fc-tanh/gd-step, cnn-relu/sharpness,
    /// minimalist, matmul), a network (fc-tanh, cnn-relu) or a kind (gd-step, hvp, sharpness).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Print one JSON document on standard output instead of the table.
    #[arg(long)]
    pub json: bool,
    /// CIFAR-10 examples from `sharplab data export --targets onehot` (10 classes, at least
    /// --fc-examples rows) [default: the first 5,000 training images of the cache,
    /// standardized per feature].
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Two-class examples with ±1 targets for the minimalist model (`--targets pm1`)
    /// [default: 1,000 cat and dog training images, balanced with seed 0, per feature].
    #[arg(long, value_name = "FILE")]
    pub minimalist_data: Option<PathBuf>,
    /// Write the parameters each benchmark starts from and setup.json into this folder, for
    /// benches/reference.py (and the data, when not given by --data / --minimalist-data).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Threads of the CPU backend.
    #[arg(long, env = "RAYON_NUM_THREADS", default_value_t = 2)]
    pub threads: usize,
    /// Backend of the network benchmarks and the matmul: cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    pub backend: String,
    /// N of fc-tanh: the first rows of the data.
    #[arg(long, default_value_t = 5000)]
    pub fc_examples: usize,
    /// N of cnn-relu: the first rows of the data.
    #[arg(long, default_value_t = 1000)]
    pub cnn_examples: usize,
    /// Examples per chunk of the full-batch loss, gradient and HVP (Cohen et al.'s 1,000).
    #[arg(long, default_value_t = 1000)]
    pub chunk_size: usize,
    /// Step size η of the networks' GD step.
    #[arg(long, default_value_t = 0.01)]
    pub lr: f64,
    /// GD steps between the cold and the warm-started sharpness estimate.
    #[arg(long, default_value_t = 1)]
    pub warm_steps: usize,
    /// Relative residual ‖Hv − λv‖/|λ| at which a sharpness estimate stops.
    #[arg(long, default_value_t = 1e-3)]
    pub tol: f64,
    /// Most HVPs per sharpness estimate.
    #[arg(long, default_value_t = 100)]
    pub max_hvps: usize,
    /// Depth D of the minimalist model.
    #[arg(long, default_value_t = 3)]
    pub minimalist_depth: usize,
    /// Plain GD steps of the minimalist model before its timed stretch.
    #[arg(long, default_value_t = 1_000_000)]
    pub minimalist_warmup: usize,
    /// Minimalist GD steps, each with the exact sharpness, per timed repeat [default:
    /// 100,000, or 20,000 with --quick].
    #[arg(long)]
    pub minimalist_steps: Option<usize>,
    /// Side n of the square f32 matmul that measures the peak.
    #[arg(long, default_value_t = 2048)]
    pub matmul_size: usize,
    /// Seed of the networks' θ₀ and of the random Lanczos starts.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Every benchmark `--only` can name, in the order they run.
const BENCHMARKS: [&str; 8] = [
    "fc-tanh/gd-step",
    "fc-tanh/hvp",
    "fc-tanh/sharpness",
    "cnn-relu/gd-step",
    "cnn-relu/hvp",
    "cnn-relu/sharpness",
    "minimalist",
    "matmul",
];

pub fn run(ctx: &Context, args: &BenchArgs) -> anyhow::Result<()> {
    use_threads(args.threads)?;
    check(args)?;
    let backend: BackendKind = args.backend.parse()?;
    let chosen = selected(&args.only, args.quick)?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating --out {}", dir.display()))?;
    }

    let results = match backend {
        BackendKind::Cpu => run_on::<burn_flex::Flex>(ctx, args, &chosen, &burn_flex::FlexDevice)?,
        BackendKind::Wgpu => {
            #[cfg(feature = "wgpu")]
            {
                type Wgpu = burn::backend::Wgpu;
                let device: <Wgpu as burn_backend::BackendTypes>::Device = Default::default();
                run_on::<Wgpu>(ctx, args, &chosen, &device)?
            }
            #[cfg(not(feature = "wgpu"))]
            {
                anyhow::bail!(
                    "--backend wgpu: this sharplab was built without it; rebuild with \
                     `cargo build --release --features wgpu`"
                );
            }
        }
    };

    if args.json {
        let report = json!({
            "side": "sharplab",
            "version": env!("CARGO_PKG_VERSION"),
            "backend": backend.name(),
            "precision": "f32",
            "threads": args.threads,
            "cpu": cpu_model(),
            "logical_cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "quick": args.quick,
            "benchmarks": results.iter().map(Measurement::to_json).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", table(&results, backend, args.threads));
    }
    Ok(())
}

/// Sets the CPU backend's thread count before its pool exists.
fn use_threads(threads: usize) -> anyhow::Result<()> {
    if threads == 0 {
        anyhow::bail!("invalid --threads 0: use 1 or more (the comparison uses 2)");
    }
    // SAFETY: `set_var` is unsound only while another thread reads the environment. This runs
    // first in the command, before any benchmark; the process has no other thread yet (burn's
    // thread pool starts on its first parallel operation, which is after this).
    unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
    Ok(())
}

/// Rejects values no benchmark can run with, naming the flag.
fn check(args: &BenchArgs) -> anyhow::Result<()> {
    let counts = [
        ("--repeats", args.repeats.unwrap_or(1)),
        ("--sharpness-repeats", args.sharpness_repeats),
        ("--fc-examples", args.fc_examples),
        ("--cnn-examples", args.cnn_examples),
        ("--chunk-size", args.chunk_size),
        ("--max-hvps", args.max_hvps),
        ("--minimalist-steps", args.minimalist_steps.unwrap_or(1)),
        ("--matmul-size", args.matmul_size),
    ];
    if let Some((flag, _)) = counts.iter().find(|(_, value)| *value == 0) {
        anyhow::bail!("invalid {flag} 0: use 1 or more");
    }
    if !(args.lr.is_finite() && args.lr > 0.0) {
        anyhow::bail!("invalid --lr {}: use a positive step size", args.lr);
    }
    if !(args.tol > 0.0 && args.tol < 1.0) {
        anyhow::bail!("invalid --tol {}: use 0 < tol < 1 (e.g. 1e-3)", args.tol);
    }
    if args.minimalist_depth < 2 {
        anyhow::bail!(
            "invalid --minimalist-depth {}: use D >= 2 (the benchmark uses 3)",
            args.minimalist_depth
        );
    }
    Ok(())
}

/// The benchmark `--quick` leaves out unless `--only` names it.
const SLOWEST: &str = "cnn-relu/sharpness";

/// The benchmarks `only` names, in running order; when it is empty, all of them, less the
/// slowest when `quick`.
fn selected(only: &[String], quick: bool) -> anyhow::Result<Vec<&'static str>> {
    if only.is_empty() {
        return Ok(BENCHMARKS
            .into_iter()
            .filter(|name| !(quick && *name == SLOWEST))
            .collect());
    }
    let matches = |selector: &str, name: &str| {
        name == selector || name.split('/').any(|part| part == selector)
    };
    for selector in only {
        if !BENCHMARKS.iter().any(|name| matches(selector, name)) {
            anyhow::bail!(
                "unknown benchmark `{selector}` in --only: use {}, a network (fc-tanh, \
                 cnn-relu) or a kind (gd-step, hvp, sharpness)",
                BENCHMARKS.join(", ")
            );
        }
    }
    Ok(BENCHMARKS
        .into_iter()
        .filter(|name| only.iter().any(|selector| matches(selector, name)))
        .collect())
}

/// Runs the chosen benchmarks on backend `B`, writing the setup for the reference when asked.
fn run_on<B: Backend>(
    ctx: &Context,
    args: &BenchArgs,
    chosen: &[&str],
    device: &B::Device,
) -> anyhow::Result<Vec<Measurement>> {
    sharplab_nets::backend::check_precision::<B>(args.backend.parse()?, Precision::F32, device)?;
    let quick = args.quick;
    let repeats = args.repeats.unwrap_or(if quick { 3 } else { 5 });
    let out = args.out.as_deref();
    let mut results = Vec::new();
    let mut setup = json!({
        "sharplab_version": env!("CARGO_PKG_VERSION"),
        "threads": args.threads,
        "networks": [],
    });

    let wants = |prefix: &str| chosen.iter().any(|name| name.starts_with(prefix));
    if wants("fc-tanh") || wants("cnn-relu") {
        let (data, path) = network_data(ctx, args)?;
        setup["data"] = path_json(&path)?;
        for (arch, examples) in [
            (Arch::FcTanh, args.fc_examples),
            (Arch::CnnRelu, args.cnn_examples),
        ] {
            let has = |what: &str| chosen.contains(&format!("{}/{what}", arch.name()).as_str());
            let parts = Parts {
                gd_step: has("gd-step"),
                hvp: has("hvp"),
                sharpness: has("sharpness"),
            };
            if parts == Parts::default() {
                continue;
            }
            let settings = NetworkSettings {
                arch,
                examples,
                repeats,
                sharpness_repeats: args.sharpness_repeats,
                lr: args.lr,
                warm_steps: args.warm_steps,
                tol: args.tol,
                max_hvps: args.max_hvps,
                chunk_size: args.chunk_size,
                seed: args.seed,
            };
            tracing::info!(
                arch = arch.name(),
                examples,
                "timing the network benchmarks"
            );
            results.extend(networks::run::<B>(&settings, parts, &data, out, device)?);
            let params = format!("{}.safetensors", arch.name());
            if let Some(list) = setup["networks"].as_array_mut() {
                list.push(networks::setup_entry(&settings, &params));
            }
        }
    }

    if chosen.contains(&"minimalist") {
        let (data, path) = minimalist_data(ctx, args)?;
        let settings = MinimalistSettings {
            depth: args.minimalist_depth,
            warmup_steps: args.minimalist_warmup,
            steps: args
                .minimalist_steps
                .unwrap_or(if quick { 20_000 } else { 100_000 }),
            repeats,
        };
        tracing::info!(
            warmup = settings.warmup_steps,
            steps = settings.steps,
            "timing the minimalist model"
        );
        let (measurement, mut entry) = minimalist::run(&settings, &data, out)?;
        entry["data"] = path_json(&path)?;
        setup["minimalist"] = entry;
        results.push(measurement);
    }

    if chosen.contains(&"matmul") {
        tracing::info!(size = args.matmul_size, "timing the peak matmul");
        results.push(matmul::run::<B>(args.matmul_size, repeats, device)?);
        setup["matmul"] = json!({ "size": args.matmul_size, "repeats": repeats });
    }

    if let Some(dir) = out {
        let path = dir.join("setup.json");
        let text = serde_json::to_string_pretty(&setup)? + "\n";
        write_atomically(&path, text.as_bytes())?;
    }
    Ok(results)
}

/// The 10-class data of the network benchmarks, and the file they came from (exported into
/// `--out` when they came from the cache).
fn network_data(ctx: &Context, args: &BenchArgs) -> anyhow::Result<(Dataset, Option<PathBuf>)> {
    if let Some(path) = &args.data {
        let data = load_exported(path, [3, 32, 32], 10).map_err(|err| {
            anyhow::anyhow!(
                "--data: {err} (write it with `sharplab data export --dataset cifar10 --n {} \
                 --first-n --targets onehot --out FILE`)",
                args.fc_examples.max(args.cnn_examples)
            )
        })?;
        return Ok((data, Some(path.clone())));
    }
    let n = args.fc_examples.max(args.cnn_examples);
    let subset_args = SubsetArgs {
        dataset: DatasetName::Cifar10,
        classes: None,
        seed: 0,
        first_n: true,
        standardize: Standardize::PerFeature,
        split: Split::Train,
    };
    let subset = load_subset(ctx, &subset_args, n)?;
    let exported = match &args.out {
        Some(dir) => {
            let path = dir.join(format!("cifar10-first{n}.safetensors"));
            export_safetensors(&subset, Targets::OneHot, &path)?;
            Some(path)
        }
        None => None,
    };
    let targets = subset.targets(Targets::OneHot)?;
    let classes = subset.num_classes();
    Ok((
        Dataset::new(subset.x, targets, subset.shape, classes)?,
        exported,
    ))
}

/// The two-class ±1 data of the minimalist benchmark, and the file they came from.
fn minimalist_data(ctx: &Context, args: &BenchArgs) -> anyhow::Result<(Dataset, Option<PathBuf>)> {
    if let Some(path) = &args.minimalist_data {
        let data = load_exported(path, [3, 32, 32], 1).map_err(|err| {
            anyhow::anyhow!(
                "--minimalist-data: {err} (write it with `sharplab data export --dataset cifar10 \
                 --classes cat,dog --n 1000 --targets pm1 --out FILE`)"
            )
        })?;
        return Ok((data, Some(path.clone())));
    }
    let subset_args = SubsetArgs {
        dataset: DatasetName::Cifar10,
        classes: Some("cat,dog".into()),
        seed: 0,
        first_n: false,
        standardize: Standardize::PerFeature,
        split: Split::Train,
    };
    let subset = load_subset(ctx, &subset_args, 1000)?;
    let exported = match &args.out {
        Some(dir) => {
            let path = dir.join("cifar10-catdog1000.safetensors");
            export_safetensors(&subset, Targets::PlusMinusOne, &path)?;
            Some(path)
        }
        None => None,
    };
    let targets = subset.targets(Targets::PlusMinusOne)?;
    Ok((Dataset::new(subset.x, targets, subset.shape, 1)?, exported))
}

/// An absolute path as JSON (null when the data were not written to a file).
fn path_json(path: &Option<PathBuf>) -> anyhow::Result<Value> {
    match path {
        None => Ok(Value::Null),
        Some(path) => {
            let absolute: &Path = &std::fs::canonicalize(path)
                .with_context(|| format!("resolving {}", path.display()))?;
            Ok(absolute.display().to_string().into())
        }
    }
}

/// The CPU's model name from /proc/cpuinfo, or "unknown".
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The results as a text table, with the GD step's fraction of the matmul peak when both ran.
fn table(results: &[Measurement], backend: BackendKind, threads: usize) -> String {
    let mut out = format!(
        "sharplab bench: {} backend, {threads} threads, {}\n\n{:<24} {:>10} {:>10} {:>10}\n",
        backend.name(),
        cpu_model(),
        "benchmark",
        "median s",
        "min s",
        "max s"
    );
    for result in results {
        let (median, min, max) = timing::spread(&result.seconds);
        out += &format!(
            "{:<24} {median:>10.4} {min:>10.4} {max:>10.4}  {}\n",
            result.name, result.note
        );
    }
    let rate = |name: &str, key: &str| {
        results
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| r.facts.get(key))
            .and_then(Value::as_f64)
    };
    if let (Some(step), Some(peak)) = (
        rate("fc-tanh/gd-step", "flops_per_second"),
        rate("matmul", "peak_flops_per_second"),
    ) {
        out += &format!(
            "\nfc-tanh GD step: {:.1} GFLOP/s = {:.2} of this backend's matmul peak ({:.1} \
             GFLOP/s)\n",
            step / 1e9,
            step / peak,
            peak / 1e9
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_selects_by_name_network_or_kind() {
        let names = |list: &[&str]| {
            selected(
                &list.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                false,
            )
            .unwrap()
        };
        assert_eq!(names(&[]).len(), BENCHMARKS.len());
        assert_eq!(
            names(&["fc-tanh"]),
            ["fc-tanh/gd-step", "fc-tanh/hvp", "fc-tanh/sharpness"]
        );
        assert_eq!(names(&["hvp"]), ["fc-tanh/hvp", "cnn-relu/hvp"]);
        assert_eq!(
            names(&["matmul", "cnn-relu/gd-step"]),
            ["cnn-relu/gd-step", "matmul"]
        );
    }

    #[test]
    fn quick_leaves_out_the_cnn_sharpness_unless_named() {
        let quick = selected(&[], true).unwrap();
        assert!(!quick.contains(&SLOWEST) && quick.len() == BENCHMARKS.len() - 1);
        assert_eq!(selected(&[SLOWEST.to_string()], true).unwrap(), [SLOWEST]);
    }

    #[test]
    fn only_rejects_an_unknown_name_and_lists_the_known_ones() {
        let err = selected(&["fc-relu".to_string()], false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("fc-relu") && err.contains("fc-tanh/gd-step"),
            "{err}"
        );
    }
}
