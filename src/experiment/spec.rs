//! Experiment files: one TOML file per claim, naming the claim, the sweep of runs that tests
//! it, the rule that turns the runs' numbers into a verdict, and the plots to draw.
//!
//! A file has a `[base]` table of run parameters, a `[sweep]` table whose lists are crossed
//! into a grid (each point overrides `base`), optional `[quick]` and `[full]` tables that
//! override `base` and `sweep` for `reproduce --quick` and `--full`, and lists of `[[verdict]]`
//! and `[[plot]]` tables. Each run gets a stable id built from its sweep values, so that a
//! rerun finds it again and `--shard i/n` slices a sweep the same way on every machine.
//!
//! Loading a file refuses a parameter its kind does not read (a misspelt key would otherwise
//! fall back to a default without a word).
//!
//! # Limitations
//!
//! The names in `[[verdict]]` and `[[plot]]` tables are checked only against the runs' results:
//! a misspelt one makes the verdict inconclusive ("no run has ...") or the plot empty.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};

/// How much work a `reproduce` does: a quick smoke run, the default, or the paper's scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    Quick,
    Default,
    Full,
}

/// What kind of computation one run of the sweep is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    /// Train the minimalist model (`crates/minimalist`).
    Minimalist,
    /// Dataset difficulty Q and predicted sharpness, no training.
    Difficulty,
    /// Train a burn network (`crates/nets`).
    Network,
}

impl Scale {
    /// How the report names it.
    pub fn name(self) -> &'static str {
        match self {
            Scale::Quick => "quick",
            Scale::Default => "default",
            Scale::Full => "full",
        }
    }
}

impl RunKind {
    /// The name experiment files use.
    pub fn name(self) -> &'static str {
        match self {
            RunKind::Minimalist => "minimalist",
            RunKind::Difficulty => "difficulty",
            RunKind::Network => "network",
        }
    }
}

/// One experiment file, as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentFile {
    /// Must equal the file's stem; names the output folder.
    pub name: String,
    /// The claim under test, in a sentence.
    pub claim: String,
    /// The paper's number or trend, as the report quotes it.
    pub paper: String,
    pub kind: RunKind,
    #[serde(default)]
    pub base: Params,
    #[serde(default)]
    pub sweep: BTreeMap<String, Vec<toml::Value>>,
    /// How the sweep's lists combine: every combination, or one key at a time.
    #[serde(default)]
    pub sweep_mode: SweepMode,
    #[serde(default)]
    pub quick: Option<Override>,
    #[serde(default)]
    pub full: Option<Override>,
    #[serde(default)]
    pub verdict: Vec<VerdictRule>,
    #[serde(default)]
    pub plot: Vec<PlotSpec>,
    /// The scale this copy runs at: set by [`ExperimentFile::at_scale`] in the copy stored
    /// beside the results, so the report can say it; not written in experiment files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<Scale>,
}

/// How the lists of a sweep combine into runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SweepMode {
    /// The cartesian product of all lists.
    #[default]
    Grid,
    /// The base run, plus each list varied alone with every other key at its base value
    /// (the base run appears once). A trend over key k then uses only the runs that vary k.
    OneAtATime,
}

/// Run parameters: plain TOML values by name.
pub type Params = BTreeMap<String, toml::Value>;

/// Changes to `base` and `sweep` for one scale.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    #[serde(default)]
    pub base: Params,
    #[serde(default)]
    pub sweep: BTreeMap<String, Vec<toml::Value>>,
}

/// How the runs' numbers decide whether the claim holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum VerdictRule {
    /// `y` moves with `x` in `direction`: Spearman's ρ at least `min_rho` holds, ρ ≤ 0 does
    /// not hold, anything between is inconclusive. Runs that share `x` are averaged.
    Trend {
        x: String,
        y: String,
        direction: Direction,
        #[serde(default = "default_min_rho")]
        min_rho: f64,
        /// Only runs where this metric is greater than 1 count (e.g. "Q" for depth).
        #[serde(default)]
        only_where_above_one: Option<String>,
        /// A parameter that splits the runs into groups (e.g. "pair"): the trend must hold in
        /// each group, and the worst group decides.
        #[serde(default)]
        group: Option<String>,
    },
    /// Every run's `y` lies within `max_rel_error` of its `prediction`.
    Tracks {
        y: String,
        prediction: String,
        max_rel_error: f64,
    },
    /// Pearson's r between `x` and `y` over the runs is at least `min_r`.
    Correlation { x: String, y: String, min_r: f64 },
    /// `y` grows faster than linearly in `x`: y(x_max)/y(x_min) > x_max/x_min, in every
    /// group of `group` when given.
    Superlinear {
        x: String,
        y: String,
        #[serde(default)]
        group: Option<String>,
    },
    /// In every run, the sharpness over the last `window` fraction of the trajectory stays
    /// within `tolerance` (relative) of 2/η on average.
    EdgeOfStability {
        #[serde(default = "default_window")]
        window: f64,
        tolerance: f64,
    },
}

impl VerdictRule {
    /// The parameter that splits the runs into groups, for the rules that take one.
    pub fn group(&self) -> Option<&str> {
        match self {
            VerdictRule::Trend { group, .. } | VerdictRule::Superlinear { group, .. } => {
                group.as_deref()
            }
            _ => None,
        }
    }

    /// Whether statistic `a` is further from holding than `b` under this rule: a lower ρ, r or
    /// growth ratio, a higher relative error.
    pub fn is_worse(&self, a: f64, b: f64) -> bool {
        match self {
            VerdictRule::Trend {
                direction: Direction::Decreasing,
                ..
            }
            | VerdictRule::Tracks { .. }
            | VerdictRule::EdgeOfStability { .. } => a > b,
            VerdictRule::Trend { .. }
            | VerdictRule::Correlation { .. }
            | VerdictRule::Superlinear { .. } => a < b,
        }
    }
}

/// The sign a trend should have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Increasing,
    Decreasing,
}

fn default_min_rho() -> f64 {
    0.8
}

fn default_window() -> f64 {
    0.25
}

/// One figure of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PlotSpec {
    /// Sharpness against step for every run, with its 2/η and Ŝ_D lines, above the loss on a
    /// log scale.
    Trajectories {
        #[serde(default)]
        title: Option<String>,
    },
    /// Metrics `y` against parameter or metric `x`, one line each; `reference` adds published
    /// points.
    Trend {
        x: String,
        y: Vec<String>,
        #[serde(default)]
        log_x: bool,
        #[serde(default)]
        log_y: bool,
        /// A parameter whose values split each metric into separate lines.
        #[serde(default)]
        group: Option<String>,
        #[serde(default)]
        reference: Option<Reference>,
    },
    /// Measured `y` against predicted `x`, one point a run, with the line y = x and Pearson's r.
    Scatter { x: String, y: String },
}

/// Published points drawn beside a trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub label: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

/// One run of a sweep: its stable id and its full parameter set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub id: String,
    pub params: Params,
}

impl ExperimentFile {
    /// Reads and checks an experiment file; the error names the file and what is wrong.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read experiment file {}", path.display()))?;
        let file: ExperimentFile = toml::from_str(&text).map_err(|err| {
            // toml draws the offending line with a caret; one line says where and what.
            let place = err.span().map_or(String::new(), |span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!(" at line {line}, column {column}")
            });
            anyhow::anyhow!(
                "{}{place}: {} (see experiments/README.md)",
                path.display(),
                err.message().trim()
            )
        })?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if file.name != stem {
            bail!(
                "{}: name = {:?} must equal the file name {:?}",
                path.display(),
                file.name,
                stem
            );
        }
        if file.scale.is_some() {
            bail!(
                "{}: `scale` is set by the runner; choose it with --quick or --full instead",
                path.display()
            );
        }
        file.check()
            .with_context(|| format!("in experiment file {}", path.display()))?;
        Ok(file)
    }

    fn check(&self) -> anyhow::Result<()> {
        for (key, values) in self.all_sweeps() {
            if values.is_empty() {
                bail!("sweep.{key} is an empty list; give at least one value");
            }
        }
        let known = crate::experiment::kinds::known_params(self.kind);
        let mut tables: Vec<(String, Vec<&String>)> = vec![
            ("base".into(), self.base.keys().collect()),
            ("sweep".into(), self.sweep.keys().collect()),
        ];
        for (scale, o) in [("quick", &self.quick), ("full", &self.full)] {
            if let Some(o) = o {
                tables.push((format!("{scale}.base"), o.base.keys().collect()));
                tables.push((format!("{scale}.sweep"), o.sweep.keys().collect()));
            }
        }
        for (table, keys) in &tables {
            if let Some(key) = keys.iter().find(|k| !known.contains(&k.as_str())) {
                bail!(
                    "[{table}] has `{key}`, which a {} run does not read; use one of: {}",
                    self.kind.name(),
                    known.join(", ")
                );
            }
        }
        Ok(())
    }

    fn all_sweeps(&self) -> impl Iterator<Item = (&String, &Vec<toml::Value>)> {
        let scales = [&self.quick, &self.full];
        self.sweep
            .iter()
            .chain(scales.into_iter().flatten().flat_map(|o| o.sweep.iter()))
    }

    /// The file as it runs at `scale`: the scale's overrides folded into `base` and `sweep`.
    pub fn at_scale(&self, scale: Scale) -> ExperimentFile {
        let mut resolved = self.clone();
        let chosen = match scale {
            Scale::Quick => self.quick.clone(),
            Scale::Full => self.full.clone(),
            Scale::Default => None,
        };
        if let Some(o) = chosen {
            resolved.base.extend(o.base);
            resolved.sweep.extend(o.sweep);
        }
        resolved.quick = None;
        resolved.full = None;
        resolved.scale = Some(scale);
        resolved
    }

    /// Expands the sweep into runs, in a fixed order (keys sorted, values as listed). The id
    /// is `key=value` pairs joined by `_`, or `single` when there is no sweep.
    pub fn runs(&self) -> Vec<RunSpec> {
        match self.sweep_mode {
            SweepMode::Grid => self.grid_runs(),
            SweepMode::OneAtATime => self.one_at_a_time_runs(),
        }
    }

    fn one_at_a_time_runs(&self) -> Vec<RunSpec> {
        let mut runs = vec![RunSpec {
            id: "base".to_string(),
            params: self.base.clone(),
        }];
        for (key, values) in &self.sweep {
            for value in values {
                if self.base.get(key) == Some(value) {
                    continue;
                }
                let mut params = self.base.clone();
                params.insert(key.clone(), value.clone());
                runs.push(RunSpec {
                    id: format!("{key}={}", id_value(value)),
                    params,
                });
            }
        }
        runs
    }

    /// Whether run `params` belongs to the trend over `key`: in a grid every run does; one at
    /// a time, the runs whose other swept keys sit at their base values.
    pub fn varies_only(&self, params: &Params, key: &str) -> bool {
        match self.sweep_mode {
            SweepMode::Grid => true,
            SweepMode::OneAtATime => self
                .sweep
                .keys()
                .filter(|k| k.as_str() != key)
                .all(|k| params.get(k) == self.base.get(k)),
        }
    }

    fn grid_runs(&self) -> Vec<RunSpec> {
        let mut runs = vec![(Vec::<String>::new(), self.base.clone())];
        for (key, values) in &self.sweep {
            let mut next = Vec::with_capacity(runs.len() * values.len());
            for (id_parts, params) in &runs {
                for value in values {
                    let mut params = params.clone();
                    params.insert(key.clone(), value.clone());
                    let mut id_parts = id_parts.clone();
                    id_parts.push(format!("{key}={}", id_value(value)));
                    next.push((id_parts, params));
                }
            }
            runs = next;
        }
        runs.into_iter()
            .map(|(parts, params)| RunSpec {
                id: if parts.is_empty() {
                    "single".to_string()
                } else {
                    parts.join("_")
                },
                params,
            })
            .collect()
    }
}

/// A value as it appears in a run id: file-name safe.
fn id_value(value: &toml::Value) -> String {
    let raw = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(items) => items.iter().map(id_value).collect::<Vec<_>>().join("+"),
        other => other.to_string(),
    };
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A slice `i/n` of a sweep: run k (0-based) belongs to slice (k mod n) + 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("--shard {text:?}: expected i/n with 1 ≤ i ≤ n, e.g. 2/3");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether the run at position `k` of the sweep belongs to this slice.
    pub fn contains(&self, k: usize) -> bool {
        k % self.count == self.index - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ExperimentFile {
        toml::from_str(text).expect("valid experiment")
    }

    const GRID: &str = r#"
        name = "grid"
        claim = "c"
        paper = "p"
        kind = "minimalist"
        [base]
        depth = 3
        [sweep]
        n = [100, 200]
        lr_factor = [0.5, 1.0, 2.0]
        [quick.sweep]
        n = [100]
    "#;

    #[test]
    fn every_shipped_experiment_file_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                ExperimentFile::load(&path).unwrap_or_else(|e| panic!("{e:#}"));
                count += 1;
            }
        }
        assert!(count >= 10, "only {count} experiment files");
    }

    #[test]
    fn a_toml_syntax_error_is_one_line_with_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.toml");
        std::fs::write(&path, "name = \"broken\"\nclaim = \"c\"\npaper = \n").unwrap();
        let err = format!("{:#}", ExperimentFile::load(&path).unwrap_err());
        assert!(!err.contains('\n'), "{err}");
        assert!(err.contains("broken.toml at line 3"), "{err}");
    }

    #[test]
    fn a_misspelt_parameter_is_refused_wherever_it_is() {
        for (table, line) in [
            ("base", "[base]\nlr_factr = 0.5"),
            ("sweep", "[sweep]\nstepz = [1, 2]"),
            ("quick.base", "[quick.base]\nstepss = 10"),
        ] {
            let text = format!(
                "name = \"e\"\nclaim = \"c\"\npaper = \"p\"\nkind = \"minimalist\"\n{line}\n"
            );
            let err = parse(&text).check().unwrap_err().to_string();
            assert!(err.contains(&format!("[{table}]")), "{err}");
            assert!(err.contains("does not read"), "{err}");
        }
        assert!(parse(GRID).check().is_ok());
    }

    #[test]
    fn grid_has_the_product_of_list_lengths_and_unique_ids() {
        let runs = parse(GRID).runs();
        assert_eq!(runs.len(), 6);
        let mut ids: Vec<_> = runs.iter().map(|r| r.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 6);
        assert_eq!(runs[0].id, "lr_factor=0.5_n=100");
        assert_eq!(runs[0].params["depth"], toml::Value::Integer(3));
    }

    #[test]
    fn quick_scale_replaces_the_swept_list() {
        let quick = parse(GRID).at_scale(Scale::Quick);
        assert_eq!(quick.runs().len(), 3);
    }

    #[test]
    fn one_at_a_time_varies_each_key_alone_around_the_base() {
        let file = parse(
            r#"
            name = "o"
            claim = "c"
            paper = "p"
            kind = "network"
            sweep_mode = "one-at-a-time"
            [base]
            n = 500
            depth = 2
            [sweep]
            n = [250, 500, 1000]
            depth = [1, 2, 3]
        "#,
        );
        let runs = file.runs();
        let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["base", "depth=1", "depth=3", "n=250", "n=1000"]);
        let in_n_trend = runs
            .iter()
            .filter(|r| file.varies_only(&r.params, "n"))
            .count();
        assert_eq!(in_n_trend, 3);
    }

    #[test]
    fn shards_partition_the_sweep() {
        let shards: Vec<Shard> = (1..=3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        for k in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.contains(k)).count(), 1);
        }
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }

    #[test]
    fn verdict_and_plot_tables_parse() {
        let file = parse(
            r#"
            name = "v"
            claim = "c"
            paper = "p"
            kind = "difficulty"
            [[verdict]]
            rule = "superlinear"
            x = "n"
            y = "Q"
            [[plot]]
            kind = "trend"
            x = "n"
            y = ["Q"]
            log_y = true
        "#,
        );
        assert_eq!(
            file.verdict[0],
            VerdictRule::Superlinear {
                x: "n".into(),
                y: "Q".into(),
                group: None,
            }
        );
        assert!(matches!(file.plot[0], PlotSpec::Trend { log_y: true, .. }));
    }
}
