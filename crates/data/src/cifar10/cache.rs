//! The CIFAR-10 cache under `<data_dir>/cifar10/`: `train.bin` and `test.bin` in the original
//! binary record layout (1 label byte, then 1024 red, 1024 green, 1024 blue bytes per image),
//! and `format.json` saying which format version, source and counts they hold.
//!
//! Writing is all-or-nothing: the old `format.json` is removed first, all three files are
//! written under `.tmp` names, then renamed, `format.json` last; a reader that finds
//! `format.json` therefore finds the binaries it describes.
//!
//! # Limitations
//!
//! - The binaries carry no checksum; `load` checks their sizes and labels only.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::source::records_to_set;
use super::{CACHE_FORMAT_VERSION, RECORD_BYTES, SourceKind};
use crate::atomic::{commit, write_temp};
use crate::{DataError, Dataset, DatasetName, ImageSet};

/// What `format.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CacheFormat {
    pub format_version: u32,
    pub dataset: String,
    /// 3073: one label byte and a `[3, 32, 32]` image.
    pub record_bytes: usize,
    pub class_names: Vec<String>,
    pub train_count: usize,
    pub test_count: usize,
    pub source: String,
    pub source_kind: SourceKind,
    pub source_sha256: Option<String>,
    /// Seed of the one-time shuffle of image-folder sources; `None` = original order kept.
    pub shuffle_seed: Option<u64>,
    pub written_by: String,
}

pub(crate) const FORMAT_FILE: &str = "format.json";

/// The cache folder inside `data_dir`.
pub(crate) fn cache_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("cifar10")
}

/// Writes both splits and `format.json` into `dir` (created if needed).
pub(crate) fn write(
    dir: &Path,
    train: &ImageSet,
    test: &ImageSet,
    format: &CacheFormat,
) -> Result<(), DataError> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let format_path = dir.join(FORMAT_FILE);
    match std::fs::remove_file(&format_path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            return Err(DataError::io(&format_path, err));
        }
        _ => {}
    }

    let format_json = serde_json::to_vec_pretty(format).map_err(|e| DataError::CacheCorrupt {
        path: format_path.clone(),
        detail: format!("cannot encode the format record ({e})"),
    })?;
    let targets = [dir.join("train.bin"), dir.join("test.bin"), format_path];
    let mut temps = Vec::new();
    let written = (|| {
        temps.push(write_temp(&targets[0], |w| write_records(w, train))?);
        temps.push(write_temp(&targets[1], |w| write_records(w, test))?);
        temps.push(write_temp(&targets[2], |w| w.write_all(&format_json))?);
        Ok::<_, DataError>(())
    })();
    if let Err(err) = written {
        for temp in &temps {
            let _ = std::fs::remove_file(temp);
        }
        return Err(err);
    }
    for (temp, target) in temps.iter().zip(&targets) {
        commit(temp, target)?;
    }
    Ok(())
}

fn write_records(writer: &mut impl Write, set: &ImageSet) -> std::io::Result<()> {
    for (index, &label) in set.labels.iter().enumerate() {
        writer.write_all(&[label])?;
        writer.write_all(set.image(index))?;
    }
    Ok(())
}

/// Reads the cache in `dir`.
pub(crate) fn read(dir: &Path) -> Result<Dataset, DataError> {
    let format_path = dir.join(FORMAT_FILE);
    if !format_path.is_file() {
        return Err(DataError::CacheMissing {
            dataset: DatasetName::Cifar10.to_string(),
            path: format_path,
            fix: DatasetName::Cifar10.setup_command().to_string(),
        });
    }
    let format = read_format(&format_path)?;
    let corrupt = |path: &Path, detail: String| DataError::CacheCorrupt {
        path: path.to_path_buf(),
        detail,
    };
    if format.record_bytes != RECORD_BYTES || format.class_names.len() > usize::from(u8::MAX) {
        return Err(corrupt(
            &format_path,
            "record size or class list is not CIFAR-10's".into(),
        ));
    }

    let mut sets = Vec::new();
    for (name, count) in [
        ("train.bin", format.train_count),
        ("test.bin", format.test_count),
    ] {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
        if bytes.len() != count * RECORD_BYTES {
            return Err(corrupt(
                &path,
                format!(
                    "{} bytes, format.json promises {count} records of {RECORD_BYTES}",
                    bytes.len()
                ),
            ));
        }
        sets.push(records_to_set(&path, &bytes, format.class_names.len())?);
    }
    let test = sets.pop().unwrap_or_else(|| unreachable!());
    let train = sets.pop().unwrap_or_else(|| unreachable!());
    Ok(Dataset::new(
        DatasetName::Cifar10,
        format.class_names,
        train,
        test,
    ))
}

/// Parses `format.json`, reporting an older or newer version before anything else.
fn read_format(path: &Path) -> Result<CacheFormat, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    let corrupt = |detail: String| DataError::CacheCorrupt {
        path: path.to_path_buf(),
        detail,
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| corrupt(format!("not JSON ({e})")))?;
    let version = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(CACHE_FORMAT_VERSION)) {
        return Err(DataError::CacheFormat {
            path: path.to_path_buf(),
            found: version.map_or("none".to_string(), |v| v.to_string()),
            expected: CACHE_FORMAT_VERSION,
        });
    }
    serde_json::from_value(value).map_err(|e| corrupt(format!("unexpected content ({e})")))
}
