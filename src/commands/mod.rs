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

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// What every subcommand may need from the global flags.
#[derive(Debug, Clone)]
pub struct Context {
    /// The dataset cache folder (`--data-dir`, default `datasets/`).
    pub data_dir: PathBuf,
    /// `-q`: print only errors, no progress bars.
    pub quiet: bool,
}

/// Creates the output folder `--out DIR` (and its parents), or says why it cannot be one.
pub fn create_out_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!(
            "--out {} is a file, not a folder: pass a folder (it is created if missing)",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--out: cannot create the folder {}", dir.display()))
}
