//! Reading a run's trajectory CSV back for plots and verdicts.
//!
//! Every run kind writes the columns `step`, `loss`, `sharpness` and `two_over_lr` (more are
//! welcome); a sharpness cell is empty on steps where it was not measured.
//!
//! # Limitations
//!
//! The whole file is read into memory; trajectories are at most a few hundred thousand rows.

use std::path::Path;

use anyhow::Context as _;

/// The columns of a trajectory that the report uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trajectory {
    pub step: Vec<f64>,
    pub loss: Vec<f64>,
    /// `None` where sharpness was not measured at that step.
    pub sharpness: Vec<Option<f64>>,
    pub two_over_lr: Vec<f64>,
}

impl Trajectory {
    /// Reads `path`; missing optional columns read as empty.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let mut reader = csv::Reader::from_path(path)
            .with_context(|| format!("cannot read trajectory {}", path.display()))?;
        let headers = reader.headers()?.clone();
        let column = |name: &str| headers.iter().position(|h| h == name);
        let (step, loss) = (column("step"), column("loss"));
        let (sharpness, limit) = (column("sharpness"), column("two_over_lr"));
        let mut out = Trajectory::default();
        for row in reader.records() {
            let row = row.with_context(|| format!("bad row in {}", path.display()))?;
            let cell = |i: Option<usize>| -> Option<f64> {
                i.and_then(|i| row.get(i))
                    .and_then(|s| s.trim().parse::<f64>().ok())
            };
            out.step.push(cell(step).unwrap_or(f64::NAN));
            out.loss.push(cell(loss).unwrap_or(f64::NAN));
            out.sharpness
                .push(cell(sharpness).filter(|v| v.is_finite()));
            out.two_over_lr.push(cell(limit).unwrap_or(f64::NAN));
        }
        Ok(out)
    }

    /// Mean sharpness over the last `window` fraction of the steps, and 2/η there; `None`
    /// when no sharpness was measured in that window.
    pub fn tail_sharpness(&self, window: f64) -> Option<(f64, f64)> {
        let last_step = *self.step.last()?;
        let first_step = *self.step.first()?;
        let from = last_step - window.clamp(0.0, 1.0) * (last_step - first_step);
        let tail: Vec<f64> = self
            .step
            .iter()
            .zip(&self.sharpness)
            .filter(|(s, _)| **s >= from)
            .filter_map(|(_, v)| *v)
            .collect();
        if tail.is_empty() {
            return None;
        }
        let mean = tail.iter().sum::<f64>() / tail.len() as f64;
        Some((mean, *self.two_over_lr.last()?))
    }

    /// (step, sharpness) at the steps where sharpness was measured.
    pub fn sharpness_points(&self) -> Vec<(f64, f64)> {
        self.step
            .iter()
            .zip(&self.sharpness)
            .filter_map(|(s, v)| v.map(|v| (*s, v)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_mean_skips_unmeasured_steps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(
            &path,
            "step,loss,sharpness,two_over_lr\n0,1,10,20\n1,0.5,,20\n2,0.4,18,20\n3,0.3,22,20\n",
        )
        .unwrap();
        let t = Trajectory::read(&path).unwrap();
        assert_eq!(t.sharpness_points().len(), 3);
        // Last half of steps 0..3 is steps ≥ 1.5: sharpness 18 and 22.
        assert_eq!(t.tail_sharpness(0.5), Some((20.0, 20.0)));
    }
}
