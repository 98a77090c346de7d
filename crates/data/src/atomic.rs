//! Atomic file output: write `<name>.tmp` beside the target, then rename it over the target,
//! so a reader never sees a half-written file and a failure leaves only the old file (or
//! none).
//!
//! # Limitations
//!
//! - Rename is atomic only within one file system; the temporary file sits in the target's
//!   own folder for that reason.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::DataError;

/// `path` with `.tmp` appended to its file name (`train.bin` → `train.bin.tmp`).
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes the file at `temp_path(path)` with `fill` and returns that temporary path; the
/// caller renames it into place with [`commit`]. On error the temporary file is removed.
pub(crate) fn write_temp(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<PathBuf, DataError> {
    let temp = temp_path(path);
    let result = (|| {
        let mut writer = BufWriter::new(File::create(&temp)?);
        fill(&mut writer)?;
        writer.flush()?;
        writer.get_ref().sync_all()
    })();
    match result {
        Ok(()) => Ok(temp),
        Err(err) => {
            let _ = std::fs::remove_file(&temp);
            Err(DataError::io(&temp, err))
        }
    }
}

/// Renames a temporary file written by [`write_temp`] over `path`.
pub(crate) fn commit(temp: &Path, path: &Path) -> Result<(), DataError> {
    std::fs::rename(temp, path).map_err(|err| DataError::io(path, err))
}

/// Writes `path` atomically in one go.
pub(crate) fn write_file(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), DataError> {
    let temp = write_temp(path, fill)?;
    commit(&temp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_neither_target_nor_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        let result = write_file(&target, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(result.is_err());
        assert!(!target.exists());
        assert!(!temp_path(&target).exists());
    }

    #[test]
    fn successful_write_replaces_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.txt");
        std::fs::write(&target, "old").unwrap();
        write_file(&target, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert!(!temp_path(&target).exists());
    }
}
