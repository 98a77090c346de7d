//! Reading a CIFAR-10 source into memory: a `.tar.gz` (of images or of the binary release,
//! read in one streaming pass, never unpacked to disk), a folder of images, or the binary
//! release folder. Also the SHA-256 check of a tarball against the `SHA256SUMS` beside it.
//!
//! How images are decoded and ordered is in `images.rs`.
//!
//! # Limitations
//!
//! - The whole source is decoded in memory (about 185 MB for CIFAR-10) before it is written.
//! - Only gzip-compressed tarballs are read.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

use super::images::{ImageCollector, decode_image, has_image_extension, image_key};
use super::{CLASS_NAMES, IMAGE_BYTES, RECORD_BYTES, SourceKind};
use crate::{DataError, ImageSet, Split};

/// A source, read into memory.
pub(crate) struct Decoded {
    pub train: ImageSet,
    pub test: ImageSet,
    pub class_names: Vec<String>,
    pub kind: SourceKind,
}

/// Which reader a `--from` path needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Tarball(PathBuf),
    ImageFolder(PathBuf),
    BinaryFolder(PathBuf),
}

const BATCH_FILES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];

/// Recognises the form of `path` (see [`crate::prepare_cifar10`] for the accepted forms).
pub(crate) fn resolve(path: &Path) -> Result<Source, DataError> {
    if path.is_file() {
        return Ok(Source::Tarball(path.to_path_buf()));
    }
    if !path.is_dir() {
        return Err(DataError::SourceMissing {
            path: path.to_path_buf(),
        });
    }
    for tarball in ["cifar10-jpeg-q75.tar.gz", "cifar-10-binary.tar.gz"] {
        if path.join(tarball).is_file() {
            return Ok(Source::Tarball(path.join(tarball)));
        }
    }
    if path.join(BATCH_FILES[0]).is_file() {
        return Ok(Source::BinaryFolder(path.to_path_buf()));
    }
    if path.join("cifar-10-batches-bin").is_dir() {
        return Ok(Source::BinaryFolder(path.join("cifar-10-batches-bin")));
    }
    if path.join("train").is_dir() && path.join("test").is_dir() {
        return Ok(Source::ImageFolder(path.to_path_buf()));
    }
    Err(DataError::UnrecognizedSource {
        path: path.to_path_buf(),
    })
}

/// Reads the whole source.
pub(crate) fn decode(source: &Source) -> Result<Decoded, DataError> {
    match source {
        Source::Tarball(path) => decode_tarball(path),
        Source::ImageFolder(path) => decode_image_folder(path),
        Source::BinaryFolder(path) => decode_binary_folder(path),
    }
}

/// SHA-256 of `path` in hex; checked against `SHA256SUMS` in the same folder when that file
/// lists it (a mismatch is an error; no entry, or no `SHA256SUMS`, only a warning).
pub(crate) fn verify_sha256(path: &Path) -> Result<String, DataError> {
    let mut hasher = Sha256::new();
    let mut file = File::open(path).map_err(|e| DataError::io(path, e))?;
    std::io::copy(&mut file, &mut hasher).map_err(|e| DataError::io(path, e))?;
    let actual: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let sums = path.with_file_name("SHA256SUMS");
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let expected = std::fs::read_to_string(&sums).ok().and_then(|text| {
        text.lines().find_map(|line| {
            let (digest, listed) = line.trim().split_once(char::is_whitespace)?;
            let listed = listed
                .trim_start()
                .trim_start_matches('*')
                .trim_start_matches("./");
            (listed == name).then(|| digest.to_ascii_lowercase())
        })
    });
    match expected {
        Some(expected) if expected != actual => Err(DataError::ChecksumMismatch {
            file: path.to_path_buf(),
            sums,
            expected,
            actual,
        }),
        Some(_) => {
            tracing::info!(file = %path.display(), "SHA-256 matches SHA256SUMS");
            Ok(actual)
        }
        None => {
            tracing::warn!(file = %path.display(), sha256 = %actual, "no SHA256SUMS entry to check against");
            Ok(actual)
        }
    }
}

fn decode_tarball(path: &Path) -> Result<Decoded, DataError> {
    let corrupt = |e: std::io::Error| DataError::CorruptArchive {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut archive = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    let mut images = ImageCollector::default();
    let mut batches = BTreeMap::new();
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(corrupt)?.into_owned();
        let shown = PathBuf::from(format!("{}:{}", path.display(), name.display()));
        let image_key = image_key(&name);
        let batch_name = batch_name(&name);
        if image_key.is_none() && batch_name.is_none() {
            continue;
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(corrupt)?;
        if let Some((split, class, file)) = image_key {
            images.add(split, class, &file, decode_image(&bytes, &shown)?);
        } else if let Some(batch) = batch_name {
            batches.insert(batch, (shown, bytes));
        }
    }
    if images.is_empty() && batches.is_empty() {
        return Err(DataError::IncompleteSource {
            path: path.to_path_buf(),
            detail: "holds neither train/<class>/ and test/<class>/ images nor the \
                     cifar-10-batches-bin/ files; pass a CIFAR-10 archive"
                .into(),
        });
    }
    if images.is_empty() {
        let mut decoded = assemble_batches(path, batches)?;
        decoded.kind = SourceKind::BinaryTarball;
        Ok(decoded)
    } else {
        images.finish(path, SourceKind::ImageTarball)
    }
}

fn decode_image_folder(root: &Path) -> Result<Decoded, DataError> {
    let mut images = ImageCollector::default();
    for split in [Split::Train, Split::Test] {
        let split_dir = root.join(split.as_str());
        for class_dir in sorted_entries(&split_dir)? {
            if !class_dir.is_dir() {
                continue;
            }
            let class = file_name(&class_dir);
            for file in sorted_entries(&class_dir)? {
                let name = file_name(&file);
                if !file.is_file() || !has_image_extension(&name) {
                    continue;
                }
                let bytes = std::fs::read(&file).map_err(|e| DataError::io(&file, e))?;
                images.add(split, class.clone(), &name, decode_image(&bytes, &file)?);
            }
        }
    }
    images.finish(root, SourceKind::ImageFolder)
}

fn decode_binary_folder(folder: &Path) -> Result<Decoded, DataError> {
    let mut batches = BTreeMap::new();
    for name in BATCH_FILES.iter().copied().chain(["batches.meta.txt"]) {
        let path = folder.join(name);
        if path.is_file() {
            let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
            batches.insert(name.to_string(), (path, bytes));
        }
    }
    assemble_batches(folder, batches)
}

/// Builds both splits from the binary release's files (name → (shown path, bytes)).
fn assemble_batches(
    source: &Path,
    mut files: BTreeMap<String, (PathBuf, Vec<u8>)>,
) -> Result<Decoded, DataError> {
    let class_names = match files.remove("batches.meta.txt") {
        Some((shown, bytes)) => {
            let names: Vec<String> = String::from_utf8_lossy(&bytes)
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_string)
                .collect();
            if names.len() != CLASS_NAMES.len() {
                return Err(DataError::IncompleteSource {
                    path: shown,
                    detail: format!("lists {} class names, CIFAR-10 has 10", names.len()),
                });
            }
            names
        }
        None => CLASS_NAMES.iter().map(|name| name.to_string()).collect(),
    };
    let mut splits = [Vec::new(), Vec::new()]; // records of train, test
    for (index, name) in BATCH_FILES.iter().enumerate() {
        let (shown, bytes) = files
            .remove(*name)
            .ok_or_else(|| DataError::IncompleteSource {
                path: source.to_path_buf(),
                detail: format!(
                    "{name} is missing; the binary release has data_batch_1.bin .. \
                 data_batch_5.bin and test_batch.bin"
                ),
            })?;
        if bytes.is_empty() || bytes.len() % RECORD_BYTES != 0 {
            return Err(DataError::TruncatedBatch {
                path: shown,
                len: bytes.len() as u64,
                record: RECORD_BYTES,
            });
        }
        splits[usize::from(index == BATCH_FILES.len() - 1)].extend_from_slice(&bytes);
    }
    let [train, test] = splits;
    let train = records_to_set(source, &train, class_names.len())?;
    let test = records_to_set(source, &test, class_names.len())?;
    Ok(Decoded {
        train,
        test,
        class_names,
        kind: SourceKind::BinaryFolder,
    })
}

/// Splits `[label, 3072 bytes]` records into an [`ImageSet`], checking each label.
pub(crate) fn records_to_set(
    path: &Path,
    records: &[u8],
    classes: usize,
) -> Result<ImageSet, DataError> {
    let count = records.len() / RECORD_BYTES;
    let mut images = Vec::with_capacity(count * IMAGE_BYTES);
    let mut labels = Vec::with_capacity(count);
    for (index, record) in records.chunks_exact(RECORD_BYTES).enumerate() {
        if usize::from(record[0]) >= classes {
            return Err(DataError::IncompleteSource {
                path: path.to_path_buf(),
                detail: format!(
                    "record {index} has label {}, CIFAR-10 labels are 0..9",
                    record[0]
                ),
            });
        }
        labels.push(record[0]);
        images.extend_from_slice(&record[1..]);
    }
    Ok(ImageSet {
        images,
        labels,
        channels: 3,
        height: 32,
        width: 32,
    })
}

/// The file name when `path` is one of the binary release's files.
fn batch_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy();
    (BATCH_FILES.contains(&name.as_ref()) || name == "batches.meta.txt").then(|| name.into_owned())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let mut paths = entries
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| DataError::io(dir, e))?;
    paths.sort();
    Ok(paths)
}
