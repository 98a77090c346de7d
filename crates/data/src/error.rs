//! The one error type of the data crate. Every message names the input that is wrong and
//! says how to fix it, so the command line can print it as a single line.

use std::path::PathBuf;

/// What can go wrong while reading, caching or slicing a dataset.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A source file does not match the checksum listed beside it.
    #[error(
        "{file}: SHA-256 is {actual} but {sums} lists {expected}; the file is damaged or \
         replaced: fetch it again and check it with `sha256sum -c SHA256SUMS` in its folder"
    )]
    ChecksumMismatch {
        file: PathBuf,
        sums: PathBuf,
        expected: String,
        actual: String,
    },

    /// A `.tar.gz` could not be read to the end.
    #[error(
        "{path} is not a readable .tar.gz ({detail}); fetch it again and check it with \
         `sha256sum -c SHA256SUMS`"
    )]
    CorruptArchive { path: PathBuf, detail: String },

    /// A CIFAR-10 binary batch whose length is not a whole number of records.
    #[error(
        "{path}: {len} bytes is not a whole number of {record}-byte CIFAR-10 records (the file \
         is truncated); fetch cifar-10-binary.tar.gz again"
    )]
    TruncatedBatch {
        path: PathBuf,
        len: u64,
        record: usize,
    },

    /// An image that is not 32×32 RGB, or cannot be decoded.
    #[error("{path}: expected a 32x32 RGB image, found {detail}; replace or remove that file")]
    BadImage { path: PathBuf, detail: String },

    /// A source that was recognised but lacks something CIFAR-10 needs.
    #[error("{path}: {detail}")]
    IncompleteSource { path: PathBuf, detail: String },

    /// No CIFAR-10 source given and none found in the usual places.
    #[error(
        "no CIFAR-10 source found (looked in {searched}); pass `--from PATH` with one of: the \
         folder holding cifar10-jpeg-q75.tar.gz and SHA256SUMS, that .tar.gz itself, an image \
         folder with train/<class>/*.jpg|png and test/<class>/*, the original binary release \
         folder cifar-10-batches-bin/, or cifar-10-binary.tar.gz"
    )]
    NoSource { searched: String },

    /// A `--from` path that does not exist.
    #[error(
        "{path} does not exist; pass `--from` with the folder holding cifar10-jpeg-q75.tar.gz \
         and SHA256SUMS, a CIFAR-10 .tar.gz, an image folder with train/ and test/, or \
         cifar-10-batches-bin/"
    )]
    SourceMissing { path: PathBuf },

    /// A `--from` path that is none of the accepted forms.
    #[error(
        "{path} is not a CIFAR-10 source; pass the folder holding cifar10-jpeg-q75.tar.gz and \
         SHA256SUMS, a .tar.gz of images or of cifar-10-batches-bin/, an image folder with \
         train/ and test/, or cifar-10-batches-bin/"
    )]
    UnrecognizedSource { path: PathBuf },

    /// The prepared cache is absent.
    #[error(
        "{path} not found: the {dataset} cache is missing; run `{fix}`, or point at an existing \
         cache with --data-dir DIR or SHARPLAB_DATA_DIR=DIR"
    )]
    CacheMissing {
        dataset: String,
        path: PathBuf,
        fix: String,
    },

    /// The prepared cache was written by another format version.
    #[error(
        "{path}: cache format version {found}, this sharplab reads version {expected}; rerun \
         `sharplab data prepare`"
    )]
    CacheFormat {
        path: PathBuf,
        found: String,
        expected: u32,
    },

    /// The prepared cache is inconsistent (wrong size, unreadable metadata).
    #[error("{path}: {detail}; the cache is damaged: rerun `sharplab data prepare`")]
    CacheCorrupt { path: PathBuf, detail: String },

    /// The Fashion-MNIST idx files are not installed.
    #[error(
        "Fashion-MNIST not found (looked for {file} in {searched}); install it with \
         `apt-get install -y dataset-fashion-mnist` or put the idx files in \
         <data-dir>/fashion-mnist/"
    )]
    FashionMnistMissing { file: String, searched: String },

    /// An idx file that is not what its name says.
    #[error(
        "{path}: {detail}; reinstall it with `apt-get install --reinstall dataset-fashion-mnist`"
    )]
    BadIdx { path: PathBuf, detail: String },

    /// A dataset name that is not known.
    #[error("unknown dataset `{name}`; use `cifar10` or `fashion-mnist`")]
    UnknownDataset { name: String },

    /// A word that is not one of a small set of choices.
    #[error("unknown {what} `{value}`; use one of: {choices}")]
    UnknownChoice {
        what: &'static str,
        value: String,
        choices: &'static str,
    },

    /// A class name or index the dataset does not have.
    #[error("{dataset} has no class `{name}`; use an index 0 to {last} or a name from: {valid}")]
    UnknownClass {
        dataset: String,
        name: String,
        last: usize,
        valid: String,
    },

    /// `--classes ""`.
    #[error(
        "the class list is empty; name at least one class (e.g. `--classes cat,dog`) or omit it for all classes"
    )]
    EmptyClassList,

    /// The same class listed twice.
    #[error("class `{name}` is listed twice in the class list; list each class once")]
    DuplicateClass { name: String },

    /// N = 0.
    #[error("N must be at least 1")]
    ZeroSamples,

    /// More examples asked for than the chosen classes hold.
    #[error(
        "asked for {requested} examples {what}, but it holds only {available}; lower N or add classes"
    )]
    NotEnoughExamples {
        requested: usize,
        available: usize,
        what: String,
    },

    /// ±1 targets for a subset that does not have exactly two classes.
    #[error(
        "±1 targets need exactly two classes, the subset has {classes}; use one-hot or index targets, or pick two classes"
    )]
    TargetsNeedTwoClasses { classes: usize },

    /// Writing a safetensors file failed.
    #[error("{path}: cannot write safetensors ({detail})")]
    Export { path: PathBuf, detail: String },
}

impl DataError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}
