//! One module per subcommand. Each exposes its clap arguments and a `run` that does the work
//! and returns an error naming the bad input; `main` prints it as one line with exit code 2.

pub mod bench;
pub mod data;
pub mod difficulty;
pub mod minimal;
pub mod report;
pub mod reproduce;
pub mod run;
pub mod sharpness;
pub mod subset_args;
pub mod train;

use std::path::PathBuf;

/// What every subcommand may need from the global flags.
#[derive(Debug, Clone)]
pub struct Context {
    /// The dataset cache folder (`--data-dir`, default `datasets/`).
    pub data_dir: PathBuf,
    /// `-q`: print only errors, no progress bars.
    pub quiet: bool,
}
