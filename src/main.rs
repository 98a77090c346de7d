//! `sharplab`: the command line. Each subcommand lives in its own module under `commands/`;
//! this file only parses the arguments, sets up logging, and turns any error into one line on
//! standard error and exit code 2.

mod commands;
mod experiment;
mod report;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Sharpness dynamics of neural-network training: the minimalist model of Yoo, Song and Yun
/// (ICML 2025), its theory, and practical networks on real data.
#[derive(Debug, Parser)]
#[command(name = "sharplab", version, about, long_about = None)]
struct Cli {
    /// Folder that holds the dataset cache (`sharplab data prepare` fills it).
    #[arg(
        long,
        global = true,
        env = "SHARPLAB_DATA_DIR",
        default_value = "datasets"
    )]
    data_dir: std::path::PathBuf,

    /// More log output (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Only errors.
    #[arg(short, long, global = true)]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
enum Command {
    /// Import, inspect and export datasets.
    #[command(subcommand)]
    Data(commands::data::DataCommand),
    /// Dataset difficulty Q, σ₁²/N and predicted sharpness Ŝ_D of class subsets.
    Difficulty(commands::difficulty::DifficultyArgs),
    /// Train the minimalist model (GD, SGD or gradient flow) with exact sharpness.
    Minimal(commands::minimal::MinimalArgs),
    /// Train a practical network with burn and measure its sharpness along the way.
    Train(commands::train::TrainArgs),
    /// Top Hessian eigenvalues of a saved network on exported data.
    Sharpness(commands::sharpness::SharpnessArgs),
    /// Run one experiment file (or one shard of its sweep) and its part of the report.
    Run(commands::run::RunArgs),
    /// Run every experiment file and write the report: the main job.
    Reproduce(commands::reproduce::ReproduceArgs),
    /// Rebuild the report from the runs present in a results folder.
    Report(commands::report::ReportArgs),
    /// Time sharplab's kernels on real data (see benches/README.md).
    Bench(commands::bench::BenchArgs),
}

fn main() -> ExitCode {
    restore_default_sigpipe();
    keep_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return command_line_error(err),
    };
    init_logging(cli.verbose, cli.quiet);
    let ctx = commands::Context {
        data_dir: cli.data_dir.clone(),
        quiet: cli.quiet,
    };
    let result = match &cli.command {
        Command::Data(cmd) => commands::data::run(&ctx, cmd),
        Command::Difficulty(args) => commands::difficulty::run(&ctx, args),
        Command::Minimal(args) => commands::minimal::run(&ctx, args),
        Command::Train(args) => commands::train::run(&ctx, args),
        Command::Sharpness(args) => commands::sharpness::run(&ctx, args),
        Command::Run(args) => commands::run::run(&ctx, args),
        Command::Reproduce(args) => commands::reproduce::run(&ctx, args),
        Command::Report(args) => commands::report::run(&ctx, args),
        Command::Bench(args) => commands::bench::run(&ctx, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            ExitCode::from(2)
        }
    }
}

/// An error and its causes on one line, joined by ": ", leaving out a cause whose text the
/// line already holds (an error that prints its source, as `{path}: {source}` does).
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string().replace('\n', " ");
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Help and version go out as clap prints them; a bad command line becomes one line naming the
/// argument and pointing at `--help`, with exit code 2, like every other error.
fn command_line_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        err.exit();
    }
    // clap spreads one error over several lines (the missing arguments one per line, the
    // possible values, a tip), then the usage; keep everything before the usage, on one line.
    let rendered = err.render().to_string();
    let message = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    let message = if message.is_empty() {
        "invalid arguments"
    } else {
        message
    };
    eprintln!("error: {message}; see `sharplab --help` or `sharplab <command> --help`");
    ExitCode::from(2)
}

/// Output piped into `head` and closed early ends the process quietly, as in other command-line
/// tools, instead of a panic in `println!` (Rust ignores SIGPIPE by default).
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Fast path for training: burn-flex allocates and frees tensors of a few megabytes at every
/// step, which glibc by default serves with fresh `mmap`s (zeroed pages, page faults) and hands
/// back with `munmap`/trim. Serving them from the heap and keeping freed memory made a cnn-relu
/// GD step (N = 1000) about 15% faster and its HVP 12% (`sharplab bench --only cnn-relu`, A/B
/// on this 2-core machine; fc-tanh within noise). Peak memory is unchanged; freed memory is
/// kept for reuse.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called first thing in main, before any thread or allocation of note; mallopt only
    // changes glibc's allocation thresholds.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20); // glibc's largest allowed value
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHARPLAB_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colours only on a terminal (and not under NO_COLOR): a log redirected to a file or piped
    // stays plain text.
    use std::io::IsTerminal as _;
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .without_time()
        .init();
}
