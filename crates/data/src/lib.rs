//! Datasets for sharplab: CIFAR-10 and Fashion-MNIST as plain byte arrays, class subsets of
//! them, Cohen et al.'s preprocessing (scale to [0, 1], centre and standardize with the
//! training split's statistics), and regression targets. No burn inside: everything leaves
//! this crate as `Vec<u8>` or `Vec<f64>`.
//!
//! Notation: N examples in a subset, k classes, d = C·H·W input dimension (3072 for CIFAR-10,
//! 784 for Fashion-MNIST), images stored channel-major (CHW) on the 0..255 scale.
//!
//! CIFAR-10 is decoded once by [`prepare_cifar10`] into `<data_dir>/cifar10/` and then
//! loaded by [`load`] in about a second; Fashion-MNIST is read directly from its idx files.
//!
//! # Limitations
//!
//! - The whole dataset is held in memory (CIFAR-10: about 185 MB of bytes, plus 8 bytes per
//!   pixel of whatever subset is standardized).
//! - Only the two datasets named in [`DatasetName`] are known.

mod atomic;
mod cifar10;
mod error;
mod export;
mod fashion_mnist;
mod info;
#[cfg(test)]
mod real_data_tests;
mod standardize;
mod subset;
pub mod testing;

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::OnceLock;

pub use cifar10::{
    CACHE_FORMAT_VERSION, CACHE_SHUFFLE_SEED, PrepareSummary, SourceKind, prepare_cifar10,
};
pub use error::DataError;
pub use export::export_safetensors;
pub use info::{DatasetInfo, SplitInfo, SplitsInfo, info};
pub use standardize::{Standardize, TrainStatistics};
pub use subset::{Selection, Subset, SubsetSpec, Targets, subset};

/// The datasets sharplab knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetName {
    /// CIFAR-10: 32×32 RGB, 10 classes, 50,000 train + 10,000 test.
    Cifar10,
    /// Fashion-MNIST: 28×28 grey, 10 classes, 60,000 train + 10,000 test.
    FashionMnist,
}

impl DatasetName {
    /// The name as the command line spells it (`cifar10`, `fashion-mnist`).
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetName::Cifar10 => "cifar10",
            DatasetName::FashionMnist => "fashion-mnist",
        }
    }

    /// The command that makes [`load`] work for this dataset.
    pub fn setup_command(self) -> &'static str {
        match self {
            DatasetName::Cifar10 => "sharplab data prepare",
            DatasetName::FashionMnist => "apt-get install -y dataset-fashion-mnist",
        }
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatasetName {
    type Err = DataError;

    /// Accepts `cifar10` and `fashion-mnist` (also `cifar-10`, `fashion_mnist`, any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "cifar10" | "cifar-10" => Ok(DatasetName::Cifar10),
            "fashion-mnist" | "fashionmnist" => Ok(DatasetName::FashionMnist),
            _ => Err(DataError::UnknownDataset {
                name: s.to_string(),
            }),
        }
    }
}

/// Which half of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    Train,
    Test,
}

impl Split {
    /// `train` or `test`.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Split {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "train" => Ok(Split::Train),
            "test" => Ok(Split::Test),
            _ => Err(DataError::UnknownChoice {
                what: "split",
                value: s.to_string(),
                choices: "train, test",
            }),
        }
    }
}

/// One split of images with their labels.
#[derive(Clone, PartialEq, Eq)]
pub struct ImageSet {
    /// `[count, C, H, W]` row-major, 0..255.
    pub images: Vec<u8>,
    /// `[count]`, the dataset's class ids.
    pub labels: Vec<u8>,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl ImageSet {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the split holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// d = C·H·W, the length of one flattened image.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// The bytes of image `index`, `[C, H, W]`. Panics when `index >= len()`.
    pub fn image(&self, index: usize) -> &[u8] {
        let d = self.image_len();
        &self.images[index * d..(index + 1) * d]
    }
}

impl fmt::Debug for ImageSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ImageSet {{ count: {}, shape: [{}, {}, {}] }}",
            self.len(),
            self.channels,
            self.height,
            self.width
        )
    }
}

/// A whole dataset: both splits and the class names (index = class id).
///
/// Build one with [`Dataset::new`]; the training-split statistics used for standardization
/// are computed on first use and kept inside (see [`Dataset::train_statistics`]).
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: DatasetName,
    pub class_names: Vec<String>,
    pub train: ImageSet,
    pub test: ImageSet,
    statistics: OnceLock<TrainStatistics>,
}

impl Dataset {
    /// Assembles a dataset from its parts (no checks beyond what the loaders did).
    pub fn new(
        name: DatasetName,
        class_names: Vec<String>,
        train: ImageSet,
        test: ImageSet,
    ) -> Self {
        Dataset {
            name,
            class_names,
            train,
            test,
            statistics: OnceLock::new(),
        }
    }

    /// The split asked for.
    pub fn split(&self, split: Split) -> &ImageSet {
        match split {
            Split::Train => &self.train,
            Split::Test => &self.test,
        }
    }

    /// Per-feature and per-channel mean and standard deviation of the whole training split
    /// on the [0, 1] scale, computed once and cached.
    pub fn train_statistics(&self) -> &TrainStatistics {
        self.statistics
            .get_or_init(|| TrainStatistics::of(&self.train))
    }
}

/// Loads a dataset: CIFAR-10 from the cache under `data_dir` (made by [`prepare_cifar10`]),
/// Fashion-MNIST from `<data_dir>/fashion-mnist/` or `/usr/share/datasets/fashion-mnist/`.
pub fn load(name: DatasetName, data_dir: &Path) -> Result<Dataset, DataError> {
    match name {
        DatasetName::Cifar10 => cifar10::load(data_dir),
        DatasetName::FashionMnist => fashion_mnist::load(data_dir),
    }
}
