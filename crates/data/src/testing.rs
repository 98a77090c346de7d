//! Helpers for tests that need a real dataset: load it once per process from the local cache,
//! or skip the test with a note saying how to make the cache.
//!
//! The cache folder is `$SHARPLAB_DATA_DIR`, else `<workspace root>/datasets`. With
//! `SHARPLAB_REQUIRE_DATA=1` (CI) a missing cache is a failure, not a skip.
//!
//! # Limitations
//!
//! - The dataset stays in memory until the test process exits (CIFAR-10: about 185 MB).

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::{DataError, Dataset, DatasetName, load};

static CIFAR10: OnceLock<Option<Dataset>> = OnceLock::new();
static FASHION_MNIST: OnceLock<Option<Dataset>> = OnceLock::new();

/// The cache folder tests read: `$SHARPLAB_DATA_DIR`, else `<workspace root>/datasets`.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("SHARPLAB_DATA_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets"),
    }
}

/// The dataset, loaded once per process, or `None` after printing
/// `skipping: <dataset> cache missing; run <command>` when it is not there.
///
/// Panics when the cache is missing and `SHARPLAB_REQUIRE_DATA=1`, and whenever the cache
/// exists but cannot be read (damaged, older format).
pub fn cache_or_skip(name: DatasetName) -> Option<&'static Dataset> {
    let cell = match name {
        DatasetName::Cifar10 => &CIFAR10,
        DatasetName::FashionMnist => &FASHION_MNIST,
    };
    let loaded = cell.get_or_init(|| match load(name, &data_dir()) {
        Ok(ds) => Some(ds),
        Err(DataError::CacheMissing { .. } | DataError::FashionMnistMissing { .. }) => None,
        Err(err) => panic!("{name}: {err}"),
    });
    if loaded.is_none() {
        let message = format!(
            "skipping: {name} cache missing; run {}",
            name.setup_command()
        );
        if std::env::var("SHARPLAB_REQUIRE_DATA").is_ok_and(|v| v == "1") {
            panic!("{message} (SHARPLAB_REQUIRE_DATA=1)");
        }
        // Test output, not a library log: the note must show under `cargo test` by default.
        eprintln!("{message}");
    }
    loaded.as_ref()
}
