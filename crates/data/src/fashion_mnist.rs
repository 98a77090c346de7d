//! Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017) read straight from its four idx files,
//! gzipped or not: `<data_dir>/fashion-mnist/` first, then `/usr/share/datasets/fashion-mnist/`
//! (where Debian's `dataset-fashion-mnist` puts them). Loading takes well under a second, so
//! there is no cache.
//!
//! Class names, in label order 0..9, are shortened to one lowercase word each for the command
//! line: tshirt (T-shirt/top), trouser, pullover, dress, coat, sandal, shirt, sneaker, bag,
//! boot (ankle boot).
//!
//! # Limitations
//!
//! - Only the standard file names (`train-images-idx3-ubyte[.gz]` and so on) are looked for.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use crate::{DataError, Dataset, DatasetName, ImageSet};

/// Where the system package installs the idx files.
pub const SYSTEM_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The ten class names, label order.
pub const CLASS_NAMES: [&str; 10] = [
    "tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot",
];

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Loads both splits from the first folder that holds them.
pub(crate) fn load(data_dir: &Path) -> Result<Dataset, DataError> {
    let folders = [data_dir.join("fashion-mnist"), PathBuf::from(SYSTEM_DIR)];
    load_from(&folders)
}

/// Loads from the first of `folders` that holds `train-images-idx3-ubyte[.gz]`.
pub(crate) fn load_from(folders: &[PathBuf]) -> Result<Dataset, DataError> {
    let folder = folders
        .iter()
        .find(|folder| find(folder, "train-images-idx3-ubyte").is_some())
        .ok_or_else(|| DataError::FashionMnistMissing {
            file: "train-images-idx3-ubyte[.gz]".into(),
            searched: list(folders),
        })?;
    let train = read_split(folder, "train")?;
    let test = read_split(folder, "t10k")?;
    tracing::debug!(folder = %folder.display(), "loaded Fashion-MNIST");
    let names = CLASS_NAMES.iter().map(|name| name.to_string()).collect();
    Ok(Dataset::new(DatasetName::FashionMnist, names, train, test))
}

fn list(folders: &[PathBuf]) -> String {
    let shown: Vec<String> = folders.iter().map(|f| f.display().to_string()).collect();
    shown.join(", ")
}

/// The plain or gzipped file `stem` in `folder`, if present.
fn find(folder: &Path, stem: &str) -> Option<PathBuf> {
    [folder.join(stem), folder.join(format!("{stem}.gz"))]
        .into_iter()
        .find(|path| path.is_file())
}

fn read_split(folder: &Path, prefix: &str) -> Result<ImageSet, DataError> {
    let images_stem = format!("{prefix}-images-idx3-ubyte");
    let labels_stem = format!("{prefix}-labels-idx1-ubyte");
    let missing = |stem: &str| DataError::FashionMnistMissing {
        file: format!("{stem}[.gz]"),
        searched: folder.display().to_string(),
    };
    let images_path = find(folder, &images_stem).ok_or_else(|| missing(&images_stem))?;
    let labels_path = find(folder, &labels_stem).ok_or_else(|| missing(&labels_stem))?;

    let (image_dims, images) = read_idx(&images_path, IMAGES_MAGIC)?;
    let (label_dims, labels) = read_idx(&labels_path, LABELS_MAGIC)?;
    let bad = |path: &Path, detail: String| DataError::BadIdx {
        path: path.to_path_buf(),
        detail,
    };
    if image_dims[0] != label_dims[0] {
        return Err(bad(
            &labels_path,
            format!("{} labels for {} images", label_dims[0], image_dims[0]),
        ));
    }
    if let Some(label) = labels
        .iter()
        .find(|&&l| usize::from(l) >= CLASS_NAMES.len())
    {
        return Err(bad(
            &labels_path,
            format!("label {label} is not a class 0..9"),
        ));
    }
    Ok(ImageSet {
        images,
        labels,
        channels: 1,
        height: image_dims[1],
        width: image_dims[2],
    })
}

/// Reads an idx file of unsigned bytes: big-endian magic (`0x0000_08_<rank>`), `rank`
/// big-endian u32 sizes, then the data. Returns the sizes and the data.
fn read_idx(path: &Path, magic: u32) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut bytes = Vec::new();
    let gzipped = path.extension().is_some_and(|ext| ext == "gz");
    let read = if gzipped {
        GzDecoder::new(file).read_to_end(&mut bytes)
    } else {
        std::io::BufReader::new(file).read_to_end(&mut bytes)
    };
    let bad = |detail: String| DataError::BadIdx {
        path: path.to_path_buf(),
        detail,
    };
    read.map_err(|e| bad(format!("cannot be read ({e})")))?;

    let word = |i: usize| -> Option<u32> {
        let chunk = bytes.get(4 * i..4 * i + 4)?;
        Some(u32::from_be_bytes(chunk.try_into().ok()?))
    };
    let found = word(0).ok_or_else(|| bad("shorter than its 4-byte header".into()))?;
    if found != magic {
        return Err(bad(format!(
            "starts with magic {found:#010x}, an unsigned-byte idx file of this kind has {magic:#010x}"
        )));
    }
    let rank = (magic & 0xff) as usize;
    let dims: Vec<usize> = (1..=rank)
        .map(|i| word(i).map(|size| size as usize))
        .collect::<Option<_>>()
        .ok_or_else(|| bad("header is truncated".into()))?;
    let expected: usize = dims.iter().product();
    let data = bytes.split_off(4 * (rank + 1));
    if data.len() != expected {
        return Err(bad(format!(
            "holds {} data bytes, its header {dims:?} promises {expected} (truncated?)",
            data.len()
        )));
    }
    Ok((dims, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut bytes = magic.to_be_bytes().to_vec();
        for dim in dims {
            bytes.extend_from_slice(&dim.to_be_bytes());
        }
        bytes.extend_from_slice(data);
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// Writes a 2-train, 1-test, 2×2 Fashion-MNIST into `dir`, train files gzipped.
    fn write_tiny(dir: &Path) {
        let train_images = idx(IMAGES_MAGIC, &[2, 2, 2], &[1, 2, 3, 4, 5, 6, 7, 8]);
        std::fs::write(dir.join("train-images-idx3-ubyte.gz"), gzip(&train_images)).unwrap();
        let train_labels = idx(LABELS_MAGIC, &[2], &[9, 0]);
        std::fs::write(dir.join("train-labels-idx1-ubyte.gz"), gzip(&train_labels)).unwrap();
        std::fs::write(
            dir.join("t10k-images-idx3-ubyte"),
            idx(IMAGES_MAGIC, &[1, 2, 2], &[0; 4]),
        )
        .unwrap();
        std::fs::write(
            dir.join("t10k-labels-idx1-ubyte"),
            idx(LABELS_MAGIC, &[1], &[3]),
        )
        .unwrap();
    }

    #[test]
    fn tiny_idx_files_load_plain_and_gzipped() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny(dir.path());
        let ds = load_from(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(ds.train.images, vec![1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(ds.train.labels, vec![9, 0]);
        assert_eq!(
            (ds.train.channels, ds.train.height, ds.train.width),
            (1, 2, 2)
        );
        assert_eq!(ds.test.labels, vec![3]);
        assert_eq!(ds.class_names[9], "boot");
    }

    #[test]
    fn missing_files_name_the_apt_package() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_from(&[dir.path().to_path_buf()]).unwrap_err();
        assert!(matches!(err, DataError::FashionMnistMissing { .. }));
        assert!(
            err.to_string()
                .contains("apt-get install -y dataset-fashion-mnist")
        );
    }

    #[test]
    fn truncated_idx_file_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny(dir.path());
        let short = idx(IMAGES_MAGIC, &[1, 2, 2], &[0; 3]);
        std::fs::write(dir.path().join("t10k-images-idx3-ubyte"), short).unwrap();
        let err = load_from(&[dir.path().to_path_buf()]).unwrap_err();
        assert!(matches!(err, DataError::BadIdx { .. }), "{err}");
        assert!(err.to_string().contains("promises 4"), "{err}");
    }

    #[test]
    fn labels_file_in_place_of_images_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny(dir.path());
        std::fs::write(
            dir.path().join("t10k-images-idx3-ubyte"),
            idx(LABELS_MAGIC, &[1], &[3]),
        )
        .unwrap();
        let err = load_from(&[dir.path().to_path_buf()]).unwrap_err();
        assert!(err.to_string().contains("magic"), "{err}");
    }
}
