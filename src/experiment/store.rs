//! The results folder: where each run's record and trajectory live, and how they are written
//! so that an interrupted job leaves no half-written file behind.
//!
//! Layout under the results folder `DIR`:
//!
//! ```text
//! DIR/report.md                      one row per claim
//! DIR/<experiment>/experiment.toml   the experiment as run (scale folded in)
//! DIR/<experiment>/runs/<id>.json    one finished run: parameters, status, metrics
//! DIR/<experiment>/runs/<id>.csv     its trajectory (step, loss, sharpness, two_over_lr, ...)
//! DIR/<experiment>/*.png, summary.md the experiment's plots and summary
//! ```
//!
//! A run counts as complete once its JSON exists; the JSON is written last, after the CSV has
//! been renamed into place. Files are written under a `.tmp` name and renamed; on Ctrl-C or
//! SIGTERM the signal handler deletes the temporary files of the run in progress.
//!
//! # Limitations
//!
//! A `kill -9` cannot be caught: it may leave a `*.tmp` file, which the next run of the same
//! experiment overwrites and which no reader ever opens.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use super::spec::Params;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Converged,
    EdgeOfStability,
    Diverged,
    /// Reached its step limit without meeting a convergence criterion.
    Unconverged,
    /// Computed something without training (e.g. dataset difficulty).
    Done,
}

impl RunStatus {
    /// The name run records use.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Converged => "converged",
            RunStatus::EdgeOfStability => "edge_of_stability",
            RunStatus::Diverged => "diverged",
            RunStatus::Unconverged => "unconverged",
            RunStatus::Done => "done",
        }
    }
}

/// One finished run, as stored in `runs/<id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: String,
    pub params: Params,
    pub status: RunStatus,
    /// Scalar results by name (`final_sharpness`, `predicted_sharpness`, `Q`, ...). A value
    /// that is not finite (the final sharpness of a diverged run) is stored as JSON `null` and
    /// read back as NaN.
    #[serde(with = "nan_as_null")]
    pub metrics: BTreeMap<String, f64>,
    /// Whether `runs/<id>.csv` holds a trajectory.
    pub has_trajectory: bool,
}

/// JSON has no NaN or infinity: such metrics go out as `null` and come back as NaN, so the
/// record of a diverged run reads back like any other.
mod nan_as_null {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        metrics: &BTreeMap<String, f64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            metrics
                .iter()
                .map(|(name, &value)| (name, value.is_finite().then_some(value))),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, f64>, D::Error> {
        let stored = BTreeMap::<String, Option<f64>>::deserialize(deserializer)?;
        Ok(stored
            .into_iter()
            .map(|(name, value)| (name, value.unwrap_or(f64::NAN)))
            .collect())
    }
}

/// Paths of one experiment's outputs.
#[derive(Debug, Clone)]
pub struct ExperimentDir {
    pub root: PathBuf,
}

impl ExperimentDir {
    pub fn new(results: &Path, experiment: &str) -> Self {
        ExperimentDir {
            root: results.join(experiment),
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.join("experiment.toml")
    }

    pub fn record_path(&self, id: &str) -> PathBuf {
        self.root.join("runs").join(format!("{id}.json"))
    }

    pub fn trajectory_path(&self, id: &str) -> PathBuf {
        self.root.join("runs").join(format!("{id}.csv"))
    }

    /// The finished record of run `id`, if there is one whose parameters equal `params`.
    /// A record that cannot be read is reported and treated as unfinished, so the run is done
    /// again and its record replaced.
    pub fn finished(&self, id: &str, params: &Params) -> Option<RunRecord> {
        let record = match self.read_record(id) {
            Ok(record) => record?,
            Err(err) => {
                tracing::warn!("{err:#}");
                return None;
            }
        };
        (record.params == *params).then_some(record)
    }

    /// The record of run `id`; `Ok(None)` when the run has not finished.
    pub fn read_record(&self, id: &str) -> anyhow::Result<Option<RunRecord>> {
        let path = self.record_path(id);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let record = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a run record; delete it to rerun the run",
                path.display()
            )
        })?;
        Ok(Some(record))
    }
}

/// Temporary files of the run in progress, deleted by the signal handler.
static IN_PROGRESS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs the Ctrl-C / SIGTERM handler that deletes in-progress temporary files and exits
/// with status 130. Call once, early in a long job.
pub fn install_interrupt_handler() {
    let result = ctrlc::set_handler(|| {
        if let Ok(paths) = IN_PROGRESS.lock() {
            for path in paths.iter() {
                let _ = std::fs::remove_file(path);
            }
        }
        eprintln!("interrupted: finished runs are kept; run the same command again to resume");
        std::process::exit(130);
    });
    if let Err(err) = result {
        tracing::warn!("cannot install the interrupt handler: {err}");
    }
}

/// A file being written under `<path>.tmp`, renamed to `path` by [`PendingFile::commit`].
/// Dropping it uncommitted deletes the temporary file.
pub struct PendingFile {
    final_path: PathBuf,
    temp_path: PathBuf,
    committed: bool,
}

impl PendingFile {
    /// A file written under `<name>.tmp` (`runs/a.json` → `runs/a.json.tmp`).
    pub fn new(final_path: &Path) -> anyhow::Result<Self> {
        let mut name = final_path.file_name().unwrap_or_default().to_os_string();
        name.push(".tmp");
        Self::with_temp(final_path, final_path.with_file_name(name))
    }

    /// A file written under `<stem>.tmp.<extension>` (`a.png` → `a.tmp.png`), for writers that
    /// choose the format by the extension.
    pub fn keeping_extension(final_path: &Path) -> anyhow::Result<Self> {
        let extension = final_path.extension().unwrap_or_default().to_os_string();
        let mut temp = std::ffi::OsString::from("tmp.");
        temp.push(extension);
        Self::with_temp(final_path, final_path.with_extension(temp))
    }

    fn with_temp(final_path: &Path, temp_path: PathBuf) -> anyhow::Result<Self> {
        if let Some(parent) = final_path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create folder {}", parent.display()))?;
        }
        if let Ok(mut paths) = IN_PROGRESS.lock() {
            paths.push(temp_path.clone());
        }
        Ok(PendingFile {
            final_path: final_path.to_path_buf(),
            temp_path,
            committed: false,
        })
    }

    /// Where to write the contents.
    pub fn temp_path(&self) -> &Path {
        &self.temp_path
    }

    /// Renames the temporary file into place.
    pub fn commit(mut self) -> anyhow::Result<()> {
        std::fs::rename(&self.temp_path, &self.final_path)
            .with_context(|| format!("cannot move {} into place", self.final_path.display()))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp_path);
        }
        if let Ok(mut paths) = IN_PROGRESS.lock() {
            paths.retain(|p| p != &self.temp_path);
        }
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let pending = PendingFile::new(path)?;
    let mut file = std::fs::File::create(pending.temp_path())
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    pending.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_only_the_final_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.json");
        write_atomic(&path, b"{}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("b.json")]);
    }

    #[test]
    fn dropped_pending_file_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        let pending = PendingFile::new(&path).unwrap();
        std::fs::write(pending.temp_path(), b"half").unwrap();
        drop(pending);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_diverged_record_with_a_nan_metric_reads_back_as_finished() {
        let dir = tempfile::tempdir().unwrap();
        let exp = ExperimentDir::new(dir.path(), "e");
        let params = Params::new();
        let record = RunRecord {
            id: "r".into(),
            params: params.clone(),
            status: RunStatus::Diverged,
            metrics: BTreeMap::from([
                ("final_sharpness".to_string(), f64::NAN),
                ("final_loss".to_string(), f64::INFINITY),
                ("predicted_sharpness".to_string(), 12.5),
            ]),
            has_trajectory: true,
        };
        let json = serde_json::to_string(&record).unwrap();
        assert!(json.contains("\"final_sharpness\":null"), "{json}");
        write_atomic(&exp.record_path("r"), json.as_bytes()).unwrap();
        let back = exp
            .finished("r", &params)
            .expect("the diverged run counts as finished");
        assert_eq!(back.status, RunStatus::Diverged);
        assert!(back.metrics["final_sharpness"].is_nan());
        assert!(back.metrics["final_loss"].is_nan());
        assert_eq!(back.metrics["predicted_sharpness"], 12.5);
    }

    #[test]
    fn a_record_with_other_parameters_is_not_finished() {
        let dir = tempfile::tempdir().unwrap();
        let exp = ExperimentDir::new(dir.path(), "e");
        let mut params = Params::new();
        params.insert("n".into(), toml::Value::Integer(100));
        let record = RunRecord {
            id: "n=100".into(),
            params: params.clone(),
            status: RunStatus::Converged,
            metrics: BTreeMap::new(),
            has_trajectory: false,
        };
        write_atomic(
            &exp.record_path("n=100"),
            serde_json::to_string(&record).unwrap().as_bytes(),
        )
        .unwrap();
        assert!(exp.finished("n=100", &params).is_some());
        params.insert("n".into(), toml::Value::Integer(200));
        assert!(exp.finished("n=100", &params).is_none());
    }
}
