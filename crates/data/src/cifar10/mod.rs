//! CIFAR-10 (Krizhevsky, 2009): decode a source once into `<data_dir>/cifar10/`, then load all
//! 60,000 images from there in about a second.
//!
//! Accepted sources: the JPEG tarball `cifar10-jpeg-q75.tar.gz` (checked against the
//! `SHA256SUMS` beside it), any `.tar.gz` of `train/<class>/*` and `test/<class>/*` images, a
//! folder laid out that way, and the original binary release (`cifar-10-batches-bin/` or
//! `cifar-10-binary.tar.gz`). Image sources are grouped by class, so each of their splits is
//! shuffled once, with the fixed seed [`CACHE_SHUFFLE_SEED`], when cached; a binary source
//! keeps its original order, so "the first N" of it are exactly Cohen et al.'s.
//!
//! # Limitations
//!
//! - The JPEG tarball is a lossy re-encode: pixels differ from the original by a few levels
//!   and statistics by a fraction of a level (see `/work/shared/cifar10/README.md`).
//! - Since image sources are shuffled and the binary release is not, "the first N" examples
//!   depend on which source made the cache.

mod cache;
mod images;
mod source;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::{DataError, Dataset, ImageSet};

/// Version of the cache layout written to `<data_dir>/cifar10/format.json`.
pub const CACHE_FORMAT_VERSION: u32 = 1;

/// Seed of the one-time shuffle of image sources (train: ChaCha stream 0, test: stream 1).
pub const CACHE_SHUFFLE_SEED: u64 = 20_091_008;

/// The ten classes in label order (also alphabetical order).
pub(crate) const CLASS_NAMES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Bytes of one image, `[3, 32, 32]`.
pub(crate) const IMAGE_BYTES: usize = 3 * 32 * 32;
/// Bytes of one record: the label and the image.
pub(crate) const RECORD_BYTES: usize = 1 + IMAGE_BYTES;

/// The forms a CIFAR-10 source can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A `.tar.gz` of `train/<class>/*` and `test/<class>/*` images.
    ImageTarball,
    /// A folder of `train/<class>/*` and `test/<class>/*` images.
    ImageFolder,
    /// The original `cifar-10-batches-bin/` folder.
    BinaryFolder,
    /// The original `cifar-10-binary.tar.gz`.
    BinaryTarball,
}

/// What [`prepare_cifar10`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrepareSummary {
    pub cache_dir: PathBuf,
    pub source: PathBuf,
    pub kind: SourceKind,
    /// SHA-256 of a tarball source; `None` for folders.
    pub source_sha256: Option<String>,
    pub train_count: usize,
    pub test_count: usize,
    /// [`CACHE_SHUFFLE_SEED`] for image sources, `None` for the binary release.
    pub shuffle_seed: Option<u64>,
}

/// Decodes CIFAR-10 from `source` into `<data_dir>/cifar10/` (see the module doc for the
/// accepted forms). With `source = None`, uses the tarball folder `../shared/cifar10`
/// relative to the current folder or to the workspace root.
///
/// A tarball is checked against `SHA256SUMS` before it is decoded; the cache is replaced only
/// when everything has been decoded and written.
pub fn prepare_cifar10(
    source: Option<&Path>,
    data_dir: &Path,
) -> Result<PrepareSummary, DataError> {
    let source_path = match source {
        Some(path) => path.to_path_buf(),
        None => default_source()?,
    };
    let source_path = std::fs::canonicalize(&source_path).unwrap_or(source_path);
    let resolved = source::resolve(&source_path)?;
    tracing::info!(source = ?resolved, "reading CIFAR-10");
    let source_sha256 = match &resolved {
        source::Source::Tarball(path) => Some(source::verify_sha256(path)?),
        _ => None,
    };
    let mut decoded = source::decode(&resolved)?;

    let is_image_source = matches!(
        decoded.kind,
        SourceKind::ImageTarball | SourceKind::ImageFolder
    );
    let shuffle_seed = is_image_source.then_some(CACHE_SHUFFLE_SEED);
    if let Some(seed) = shuffle_seed {
        shuffle(&mut decoded.train, seed, 0);
        shuffle(&mut decoded.test, seed, 1);
    }

    let shown_source = match &resolved {
        source::Source::Tarball(p)
        | source::Source::ImageFolder(p)
        | source::Source::BinaryFolder(p) => p,
    };
    let format = cache::CacheFormat {
        format_version: CACHE_FORMAT_VERSION,
        dataset: "cifar10".into(),
        record_bytes: RECORD_BYTES,
        class_names: decoded.class_names.clone(),
        train_count: decoded.train.len(),
        test_count: decoded.test.len(),
        source: shown_source.display().to_string(),
        source_kind: decoded.kind,
        source_sha256: source_sha256.clone(),
        shuffle_seed,
        written_by: concat!("sharplab-data ", env!("CARGO_PKG_VERSION")).into(),
    };
    let dir = cache::cache_dir(data_dir);
    cache::write(&dir, &decoded.train, &decoded.test, &format)?;
    tracing::info!(cache = %dir.display(), train = decoded.train.len(), test = decoded.test.len(), "CIFAR-10 cache written");

    Ok(PrepareSummary {
        cache_dir: dir,
        source: shown_source.clone(),
        kind: decoded.kind,
        source_sha256,
        train_count: decoded.train.len(),
        test_count: decoded.test.len(),
        shuffle_seed,
    })
}

/// Loads the cache written by [`prepare_cifar10`].
pub(crate) fn load(data_dir: &Path) -> Result<Dataset, DataError> {
    cache::read(&cache::cache_dir(data_dir))
}

/// The shared tarball folder, `../shared/cifar10` from the current folder or the workspace.
fn default_source() -> Result<PathBuf, DataError> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    first_tarball_folder(&[
        PathBuf::from("../shared/cifar10"),
        workspace.join("../shared/cifar10"),
    ])
}

/// The first of `candidates` that holds `cifar10-jpeg-q75.tar.gz`.
fn first_tarball_folder(candidates: &[PathBuf]) -> Result<PathBuf, DataError> {
    candidates
        .iter()
        .find(|dir| dir.join("cifar10-jpeg-q75.tar.gz").is_file())
        .cloned()
        .ok_or_else(|| {
            let shown: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
            DataError::NoSource {
                searched: shown.join(", "),
            }
        })
}

/// Permutes the images of `set` (and their labels) with ChaCha8(`seed`), stream `stream`.
fn shuffle(set: &mut ImageSet, seed: u64, stream: u64) {
    let mut order: Vec<usize> = (0..set.len()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    order.shuffle(&mut rng);
    let images = order.iter().flat_map(|&i| set.image(i).to_vec()).collect();
    let labels = order.iter().map(|&i| set.labels[i]).collect();
    set.images = images;
    set.labels = labels;
}
