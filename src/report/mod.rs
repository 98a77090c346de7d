//! The report: per experiment a verdict, a summary and plots, and `report.md` with one row per
//! claim. Everything here is rebuilt from the files in the results folder alone, so
//! `sharplab report DIR` gives the same report after any mix of shards, reruns and resumes.
//!
//! The report holds no timings and no dates: two runs of the same seeded job give the same
//! bytes.
//!
//! # Limitations
//!
//! Plots are redrawn on every rebuild, which takes a second or two per experiment.

pub mod plots;
pub mod trajectory;
pub mod verdict;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use crate::experiment::spec::{ExperimentFile, PlotSpec, RunSpec, VerdictRule};
use crate::experiment::store::{ExperimentDir, RunRecord, write_atomic};
use trajectory::Trajectory;
use verdict::{Outcome, RuleVerdict};

/// What the report says about one experiment.
#[derive(Debug, Clone, Serialize)]
pub struct ExperimentReport {
    pub name: String,
    /// The scale the stored runs were made at (`None` for results of older versions).
    pub scale: Option<crate::experiment::spec::Scale>,
    pub claim: String,
    pub paper: String,
    pub outcome: Outcome,
    pub rules: Vec<RuleVerdict>,
    pub completed: usize,
    pub missing: Vec<String>,
    /// Plot files, relative to the results folder.
    pub plots: Vec<String>,
}

/// Rebuilds the report of the experiment stored under `results/<name>`.
pub fn build_experiment(results: &Path, name: &str) -> anyhow::Result<ExperimentReport> {
    let dir = ExperimentDir::new(results, name);
    let text = std::fs::read_to_string(dir.config_path()).with_context(|| {
        format!(
            "{} is missing: run the experiment first (sharplab run experiments/{name}.toml)",
            dir.config_path().display()
        )
    })?;
    let file: ExperimentFile = toml::from_str(&text)
        .with_context(|| format!("{} is not an experiment file", dir.config_path().display()))?;

    let mut records = Vec::new();
    let mut missing = Vec::new();
    for spec in file.runs() {
        match dir.finished(&spec.id, &spec.params) {
            Some(record) => records.push(record),
            None => missing.push(spec.id),
        }
    }
    let trajectories: Vec<Option<Trajectory>> = records
        .iter()
        .map(|r| {
            r.has_trajectory
                .then(|| Trajectory::read(&dir.trajectory_path(&r.id)).ok())
                .flatten()
        })
        .collect();
    let tail = |record: &RunRecord, window: f64| {
        let i = records.iter().position(|r| r.id == record.id)?;
        trajectories[i].as_ref()?.tail_sharpness(window)
    };
    let mut rules: Vec<RuleVerdict> = file
        .verdict
        .iter()
        .map(|rule| {
            let in_rule: Vec<RunRecord> = records
                .iter()
                .filter(|r| swept_x(rule).is_none_or(|x| file.varies_only(&r.params, x)))
                .cloned()
                .collect();
            verdict::evaluate(rule, &in_rule, &tail)
        })
        .collect();
    if !missing.is_empty() {
        rules.push(RuleVerdict {
            outcome: Outcome::Inconclusive,
            statistic: None,
            why: format!("{} of {} runs missing", missing.len(), file.runs().len()),
        });
    }
    let outcome = verdict::combine(&rules);

    let plots = draw_plots(results, &file, &records, &trajectories)?;
    let report = ExperimentReport {
        name: file.name.clone(),
        scale: file.scale,
        claim: file.claim.clone(),
        paper: file.paper.clone(),
        outcome,
        rules,
        completed: records.len(),
        missing,
        plots,
    };
    write_atomic(
        &dir.root.join("summary.md"),
        experiment_summary(&report, &records).as_bytes(),
    )?;
    Ok(report)
}

fn draw_plots(
    results: &Path,
    file: &ExperimentFile,
    records: &[RunRecord],
    trajectories: &[Option<Trajectory>],
) -> anyhow::Result<Vec<String>> {
    let mut written = Vec::new();
    for (i, spec) in file.plot.iter().enumerate() {
        let name = format!("{}-{}.png", plot_kind(spec), i + 1);
        let relative = format!("{}/{name}", file.name);
        let path = results.join(&relative);
        let title = file.name.replace('-', " ");
        match spec {
            PlotSpec::Trajectories { title: custom } => {
                let lines: Vec<plots::TrajectoryLine> = records
                    .iter()
                    .zip(trajectories)
                    .filter_map(|(r, t)| {
                        Some(plots::TrajectoryLine {
                            label: r.id.replace('_', " "),
                            trajectory: t.as_ref()?,
                            predicted: r.metrics.get("predicted_sharpness").copied(),
                        })
                    })
                    .collect();
                if lines.is_empty() {
                    continue;
                }
                plots::trajectories(&path, custom.as_deref().unwrap_or(&title), &lines)?;
            }
            PlotSpec::Trend {
                x,
                y,
                log_x,
                log_y,
                group,
                reference,
            } => {
                let along_x: Vec<&RunRecord> = records
                    .iter()
                    .filter(|r| file.varies_only(&r.params, x))
                    .collect();
                let mut series = Vec::new();
                for (label, members) in groups(&along_x, group.as_deref()) {
                    for metric in y {
                        let name = metric.replace('_', " ");
                        series.push(plots::Series {
                            label: if label.is_empty() {
                                name
                            } else {
                                format!("{name} ({label})")
                            },
                            points: trend_points(&members, x, metric),
                            theory: is_theory(metric),
                        });
                    }
                }
                if let Some(r) = reference {
                    series.push(plots::Series {
                        label: r.label.clone(),
                        points: r.x.iter().copied().zip(r.y.iter().copied()).collect(),
                        theory: false,
                    });
                }
                let y_label = y.join(", ").replace('_', " ");
                plots::trend(&path, &title, (x, &y_label), (*log_x, *log_y), &series)?;
            }
            PlotSpec::Scatter { x, y } => {
                let points: Vec<(f64, f64)> = records
                    .iter()
                    .filter_map(|r| Some((verdict::value_of(r, x)?, verdict::value_of(r, y)?)))
                    .collect();
                plots::scatter(
                    &path,
                    &title,
                    (&x.replace('_', " "), &y.replace('_', " ")),
                    &points,
                )?;
            }
        }
        written.push(relative);
    }
    remove_stale_plots(&results.join(&file.name), &written)?;
    Ok(written)
}

/// Deletes the PNG files of an experiment folder that this rebuild did not write (left by an
/// earlier version of the file's plot list), so the folder holds what the report shows.
fn remove_stale_plots(folder: &Path, written: &[String]) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(());
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let current = written
            .iter()
            .any(|w| w.rsplit('/').next() == Some(name.as_str()));
        if path.extension().is_some_and(|x| x == "png") && !current {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove the stale plot {}", path.display()))?;
        }
    }
    Ok(())
}

/// Whether a metric is the theory's number rather than a measurement (drawn dashed).
fn is_theory(metric: &str) -> bool {
    metric.starts_with("predicted") || metric.ends_with("_bound")
}

/// The swept parameter a rule reads along, if any.
fn swept_x(rule: &VerdictRule) -> Option<&str> {
    match rule {
        VerdictRule::Trend { x, .. } | VerdictRule::Superlinear { x, .. } => Some(x),
        _ => None,
    }
}

fn plot_kind(spec: &PlotSpec) -> &'static str {
    match spec {
        PlotSpec::Trajectories { .. } => "trajectories",
        PlotSpec::Trend { .. } => "trend",
        PlotSpec::Scatter { .. } => "scatter",
    }
}

/// Runs split by the value of parameter `group` (one unnamed group without it), in order of
/// first appearance.
fn groups<'a>(records: &[&'a RunRecord], group: Option<&str>) -> Vec<(String, Vec<&'a RunRecord>)> {
    let mut out: Vec<(String, Vec<&RunRecord>)> = Vec::new();
    for r in records {
        let label = group
            .and_then(|g| r.params.get(g))
            .map(|v| match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        match out.iter_mut().find(|(l, _)| *l == label) {
            Some((_, members)) => members.push(r),
            None => out.push((label, vec![r])),
        }
    }
    out
}

/// (x, y) of each run that has both, sorted by x.
fn trend_points(records: &[&RunRecord], x: &str, y: &str) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = records
        .iter()
        .filter_map(|r| Some((verdict::value_of(r, x)?, verdict::value_of(r, y)?)))
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

fn experiment_summary(report: &ExperimentReport, records: &[RunRecord]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n\n**Claim:** {}\n", report.name, report.claim);
    let _ = writeln!(out, "**Paper:** {}\n", report.paper);
    let _ = writeln!(out, "**Verdict: {}**\n", report.outcome.label());
    for rule in &report.rules {
        let _ = writeln!(out, "- {}: {}", rule.outcome.label(), rule.why);
    }
    let metric_names: std::collections::BTreeSet<&String> =
        records.iter().flat_map(|r| r.metrics.keys()).collect();
    let _ = write!(out, "\n| run | status |");
    for m in &metric_names {
        let _ = write!(out, " {m} |");
    }
    let _ = write!(out, "\n|---|---|");
    for _ in &metric_names {
        let _ = write!(out, "---|");
    }
    out.push('\n');
    for r in records {
        let _ = write!(out, "| {} | {} |", r.id, r.status.as_str());
        for m in &metric_names {
            let cell = r.metrics.get(*m).map(|v| format_number(*v));
            let _ = write!(out, " {} |", cell.unwrap_or_default());
        }
        out.push('\n');
    }
    if !report.missing.is_empty() {
        let _ = writeln!(out, "\nMissing runs: {}", report.missing.join(", "));
    }
    for plot in &report.plots {
        let file = plot.rsplit('/').next().unwrap_or(plot);
        let _ = writeln!(out, "\n![{file}]({file})");
    }
    out
}

/// An integer as an integer (a count: steps, HVPs, a rank), anything else with four
/// significant digits, without exponent for ordinary magnitudes.
pub fn format_number(v: f64) -> String {
    let v = if v == 0.0 { 0.0 } else { v }; // no "-0"
    if !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs();
    if v.fract() == 0.0 && magnitude < 1e6 {
        return format!("{v:.0}"); // a count: steps, HVPs, a rank
    }
    if magnitude != 0.0 && !(1e-3..1e6).contains(&magnitude) {
        format!("{v:.3e}")
    } else {
        let decimals = if magnitude == 0.0 {
            0
        } else {
            (3 - magnitude.log10().floor() as i32).max(0) as usize
        };
        format!("{v:.decimals$}")
    }
}

/// Draws one run's trajectory CSV (the `train` and `minimal` commands) as `png`: sharpness
/// against step with 2/η (and Ŝ_D when given) above the loss.
pub fn plot_run(
    csv: &Path,
    png: &Path,
    title: &str,
    label: String,
    predicted: Option<f64>,
) -> anyhow::Result<()> {
    let trajectory = Trajectory::read(csv)?;
    let line = plots::TrajectoryLine {
        label,
        trajectory: &trajectory,
        predicted,
    };
    plots::trajectories(png, title, &[line])
}

/// Writes `results/report.md` (and `report.json`) from the given experiment reports.
pub fn write_report(results: &Path, reports: &[ExperimentReport]) -> anyhow::Result<PathBuf> {
    let mut md = String::from("# sharplab report\n\n");
    md.push_str(
        "Each row is one claim of Yoo, Song and Yun (ICML 2025), tested by the experiment file \
         of that name under experiments/. The verdict follows from the numbers in the \
         \"ours\" column by the rule in the file.\n\n",
    );
    let mut scales: Vec<&str> = reports
        .iter()
        .map(|r| r.scale.map_or("unrecorded", |s| s.name()))
        .collect();
    scales.sort_unstable();
    scales.dedup();
    let command = match scales.as_slice() {
        ["quick"] => " (`sharplab reproduce --quick`)",
        ["default"] => " (`sharplab reproduce`)",
        ["full"] => " (`sharplab reproduce --full`)",
        _ => "",
    };
    let listed = match scales.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => scales.join(""),
    };
    let _ = writeln!(
        md,
        "Made by sharplab {} at the {listed} scale{}{command}.\n",
        env!("CARGO_PKG_VERSION"),
        if scales.len() > 1 { "s" } else { "" },
    );
    md.push_str("| claim | paper | ours | verdict |\n|---|---|---|---|\n");
    for r in reports {
        let ours: Vec<String> = r.rules.iter().map(|v| v.why.clone()).collect();
        let _ = writeln!(
            md,
            "| [{}]({}/summary.md): {} | {} | {} | **{}** |",
            r.name,
            r.name,
            r.claim.replace('|', "\\|"),
            r.paper.replace('|', "\\|"),
            ours.join("; ").replace('|', "\\|"),
            r.outcome.label()
        );
    }
    for r in reports {
        let _ = writeln!(md, "\n## {}\n\n{}\n", r.name, r.claim);
        let _ = writeln!(
            md,
            "Verdict: **{}** ({} runs complete).",
            r.outcome.label(),
            r.completed
        );
        if !r.missing.is_empty() {
            let _ = writeln!(md, "\nMissing runs: {}.", r.missing.join(", "));
        }
        for plot in &r.plots {
            let _ = writeln!(md, "\n![{plot}]({plot})");
        }
    }
    let path = results.join("report.md");
    write_atomic(&path, md.as_bytes())?;
    let json = serde_json::to_string_pretty(reports)?;
    write_atomic(&results.join("report.json"), json.as_bytes())?;
    Ok(path)
}

/// The experiments present under `results` (folders with an `experiment.toml`), sorted.
pub fn experiments_in(results: &Path) -> anyhow::Result<Vec<String>> {
    let entries = std::fs::read_dir(results).with_context(|| {
        format!(
            "cannot read results folder {}: pass the folder `sharplab reproduce --out` wrote",
            results.display()
        )
    })?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("experiment.toml").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

/// The run specs of an experiment stored in `results`, for listing what is missing.
pub fn stored_runs(results: &Path, name: &str) -> anyhow::Result<Vec<RunSpec>> {
    let dir = ExperimentDir::new(results, name);
    let text = std::fs::read_to_string(dir.config_path())?;
    let file: ExperimentFile = toml::from_str(&text)?;
    Ok(file.runs())
}

#[cfg(test)]
mod tests {
    use super::format_number;

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(format_number(123.456), "123.5");
        assert_eq!(format_number(0.012345), "0.01235");
        assert_eq!(format_number(44.44), "44.44");
        assert_eq!(format_number(2.5e7), "2.500e7");
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(550.0), "550");
        assert_eq!(format_number(-3.0), "-3");
    }
}
