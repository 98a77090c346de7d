//! End to end on real data: `sharplab reproduce --quick` writes a report with a verdict for
//! every experiment file that follows from the numbers beside it; a sweep run as three shards
//! gives the same report as one run; a job killed mid-run and started again gives the same
//! report as an uninterrupted one.
//!
//! These tests need the CIFAR-10 cache and Fashion-MNIST (`bash scripts/setup.sh`); without
//! them they skip, unless SHARPLAB_REQUIRE_DATA=1 (CI), where they fail.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn data_dir() -> PathBuf {
    std::env::var_os("SHARPLAB_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("datasets"))
}

/// Whether the datasets are present; panics in CI when they are not.
fn data_ready() -> bool {
    let ready = data_dir().join("cifar10").is_dir()
        && Path::new("/usr/share/datasets/fashion-mnist").is_dir();
    if !ready {
        let message = "datasets missing: run `bash scripts/setup.sh`";
        assert!(
            std::env::var("SHARPLAB_REQUIRE_DATA").as_deref() != Ok("1"),
            "{message}"
        );
        eprintln!("skipping: {message}");
    }
    ready
}

fn sharplab(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sharplab"));
    cmd.current_dir(root())
        .arg("--quiet")
        .arg("--data-dir")
        .arg(data_dir())
        .args(args);
    cmd
}

fn run_ok(args: &[&str]) {
    let output = sharplab(args).output().expect("sharplab starts");
    assert!(
        output.status.success(),
        "sharplab {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The results folder of one `reproduce --quick`, shared by the tests that read it.
fn quick_results() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().to_str().unwrap().to_string();
        run_ok(&["reproduce", "--quick", "--out", &out]);
        dir
    })
    .path()
}

fn experiment_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("experiments"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    names
}

#[test]
fn quick_reproduce_gives_every_experiment_file_a_verdict_row() {
    if !data_ready() {
        return;
    }
    let results = quick_results();
    let report = std::fs::read_to_string(results.join("report.md")).unwrap();
    for name in experiment_names() {
        let row = report
            .lines()
            .find(|l| l.starts_with(&format!("| [{name}]")))
            .unwrap_or_else(|| panic!("no row for {name} in report.md"));
        let verdict_cell = row.trim_end_matches('|').rsplit('|').next().unwrap().trim();
        assert!(
            ["**holds**", "**does not hold**", "**inconclusive**"].contains(&verdict_cell),
            "{name}: verdict cell {verdict_cell:?}"
        );
    }
    // every run of every experiment finished and was read back (a diverged one included)
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("report.json")).unwrap())
            .unwrap();
    for experiment in json.as_array().unwrap() {
        let missing = experiment["missing"].as_array().unwrap();
        assert!(
            missing.is_empty(),
            "{}: missing {missing:?}",
            experiment["name"]
        );
    }
}

#[test]
fn quick_reproduce_verdicts_follow_from_their_numbers() {
    if !data_ready() {
        return;
    }
    let results = quick_results();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("report.json")).unwrap())
            .unwrap();
    for experiment in json.as_array().unwrap() {
        let name = experiment["name"].as_str().unwrap();
        let file: toml::Value = toml::from_str(
            &std::fs::read_to_string(root().join(format!("experiments/{name}.toml"))).unwrap(),
        )
        .unwrap();
        let rules = file["verdict"].as_array().unwrap();
        let verdicts = experiment["rules"].as_array().unwrap();
        for (rule, verdict) in rules.iter().zip(verdicts) {
            let outcome = verdict["outcome"].as_str().unwrap();
            let Some(stat) = verdict["statistic"].as_f64() else {
                assert_eq!(
                    outcome, "inconclusive",
                    "{name}: no statistic but {outcome}"
                );
                continue;
            };
            let expected = expected_outcome(rule, stat);
            if let Some(expected) = expected {
                assert_eq!(outcome, expected, "{name}: {rule:?} with statistic {stat}");
            }
        }
        let outcomes: Vec<&str> = verdicts
            .iter()
            .map(|v| v["outcome"].as_str().unwrap())
            .collect();
        let combined = if outcomes.contains(&"does_not_hold") {
            "does_not_hold"
        } else if outcomes.contains(&"inconclusive") || outcomes.is_empty() {
            "inconclusive"
        } else {
            "holds"
        };
        assert_eq!(experiment["outcome"].as_str().unwrap(), combined, "{name}");
    }
}

/// The outcome a rule's statement implies for its statistic, written from the rule texts in
/// experiments/README.md; `None` where the statistic alone does not decide.
fn expected_outcome(rule: &toml::Value, stat: f64) -> Option<&'static str> {
    let kind = rule["rule"].as_str().unwrap();
    let pick = |holds: bool, fails: bool| {
        if holds {
            "holds"
        } else if fails {
            "does_not_hold"
        } else {
            "inconclusive"
        }
    };
    match kind {
        "trend" => {
            let min_rho = rule
                .get("min_rho")
                .and_then(|v| v.as_float())
                .unwrap_or(0.8);
            let signed = if rule["direction"].as_str() == Some("decreasing") {
                -stat
            } else {
                stat
            };
            Some(pick(signed >= min_rho, signed <= 0.0))
        }
        "tracks" => {
            let tol = rule["max_rel_error"].as_float().unwrap();
            Some(pick(stat <= tol, stat > tol))
        }
        "edge-of-stability" => {
            let tol = rule["tolerance"].as_float().unwrap();
            Some(pick(stat <= tol, stat > tol))
        }
        "correlation" => {
            let min_r = rule["min_r"].as_float().unwrap();
            Some(pick(stat >= min_r, stat <= 0.0))
        }
        "superlinear" => Some(pick(stat > 1.0, stat <= 1.0)),
        _ => None,
    }
}

#[test]
fn quick_reproduce_plots_are_pngs_that_decode() {
    if !data_ready() {
        return;
    }
    let results = quick_results();
    let report = std::fs::read_to_string(results.join("report.md")).unwrap();
    let plots: Vec<&str> = report
        .lines()
        .filter_map(|l| l.strip_prefix("![")?.split_once("](")?.1.strip_suffix(')'))
        .collect();
    assert!(plots.len() >= experiment_names().len(), "plots: {plots:?}");
    for plot in plots {
        let image = image::open(results.join(plot))
            .unwrap_or_else(|e| panic!("{plot} does not decode: {e}"));
        assert!(
            image.width() >= 600 && image.height() >= 400,
            "{plot} is tiny"
        );
    }
}

/// A small sweep for the shard and resume tests: three minimalist runs.
fn write_sweep(dir: &Path, steps: usize) -> PathBuf {
    let path = dir.join("small-sweep.toml");
    std::fs::write(
        &path,
        format!(
            r#"
name = "small-sweep"
claim = "sharpness grows with N"
paper = "grows"
kind = "minimalist"
[base]
classes = "cat,dog"
depth = 2
lr_factor = 0.5
steps = {steps}
record_every = 1
[sweep]
n = [60, 100, 140]
[[verdict]]
rule = "trend"
x = "n"
y = "final_sharpness"
direction = "increasing"
[[plot]]
kind = "trajectories"
"#
        ),
    )
    .unwrap();
    path
}

#[test]
fn three_shards_give_the_same_report_as_one_run() {
    if !data_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = write_sweep(dir.path(), 2000);
    let file = file.to_str().unwrap();
    let sharded = dir.path().join("sharded");
    let whole = dir.path().join("whole");
    for i in 1..=3 {
        let shard = format!("{i}/3");
        run_ok(&[
            "run",
            file,
            "--shard",
            &shard,
            "--out",
            sharded.to_str().unwrap(),
        ]);
    }
    run_ok(&["report", sharded.to_str().unwrap()]);
    run_ok(&["run", file, "--out", whole.to_str().unwrap()]);
    run_ok(&["report", whole.to_str().unwrap()]);
    let a = std::fs::read_to_string(sharded.join("report.md")).unwrap();
    let b = std::fs::read_to_string(whole.join("report.md")).unwrap();
    assert_eq!(a, b);
    assert!(!a.contains("Missing runs"));
}

#[test]
fn a_killed_job_resumes_to_the_same_report() {
    if !data_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = write_sweep(dir.path(), 150_000);
    let file = file.to_str().unwrap();
    let killed = dir.path().join("killed");
    let whole = dir.path().join("whole");

    let mut child = sharplab(&["run", file, "--out", killed.to_str().unwrap()])
        .spawn()
        .unwrap();
    let runs = killed.join("small-sweep/runs");
    // Wait for the first finished run (however slow the machine), or for the job's end.
    let mut ended = None;
    while count_with_extension(&runs, "json") == 0 {
        ended = child.try_wait().unwrap();
        if ended.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let exit = match ended {
        Some(status) => status, // it ended before finishing a run: the checks below say how
        None => {
            let status = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
            child.wait().unwrap()
        }
    };
    assert_eq!(
        count_with_extension(&runs, "tmp"),
        0,
        "half-written file left"
    );
    if exit.success() {
        eprintln!("note: the job finished before the signal arrived");
    } else {
        assert!(count_with_extension(&runs, "json") < 3);
    }

    run_ok(&["run", file, "--out", killed.to_str().unwrap()]);
    run_ok(&["run", file, "--out", whole.to_str().unwrap()]);
    run_ok(&["report", killed.to_str().unwrap()]);
    run_ok(&["report", whole.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(killed.join("report.md")).unwrap(),
        std::fs::read_to_string(whole.join("report.md")).unwrap()
    );
    for id in ["n=60", "n=100", "n=140"] {
        let a = std::fs::read(runs.join(format!("{id}.csv"))).unwrap();
        let b = std::fs::read(whole.join(format!("small-sweep/runs/{id}.csv"))).unwrap();
        assert_eq!(a, b, "trajectory {id} differs after the resume");
    }
}

fn count_with_extension(dir: &Path, ext: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == ext))
                .count()
        })
        .unwrap_or(0)
}
