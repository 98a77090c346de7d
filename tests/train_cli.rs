//! End-to-end tests of `sharplab train` and `sharplab sharpness`: bad input gives one line
//! `error: ...` naming the input and exit code 2; on the real CIFAR-10 cache (skipped when it
//! is missing, unless SHARPLAB_REQUIRE_DATA=1), a short run writes its three files and the
//! checkpoint's sharpness agrees with the run's own measurement.

use std::path::Path;
use std::process::{Command, Output};

fn sharplab(args: &[&str], data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sharplab"))
        .args(args)
        .env("SHARPLAB_DATA_DIR", data_dir)
        .output()
        .expect("the sharplab binary runs")
}

/// Asserts a one-line error on stderr mentioning every `needle`, and exit code 2.
fn assert_error(output: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or("");
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(last.starts_with("error: "), "stderr: {stderr}");
    for needle in needles {
        assert!(last.contains(needle), "`{needle}` missing from: {last}");
    }
}

#[test]
fn unknown_arch_backend_and_zero_width_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out = out.to_str().unwrap();
    let output = sharplab(&["train", "--arch", "fc-sigmoid", "--out", out], dir.path());
    assert_error(&output, &["fc-sigmoid", "fc-tanh"]);
    let output = sharplab(&["train", "--backend", "tpu", "--out", out], dir.path());
    assert_error(&output, &["tpu", "cpu"]);
    let output = sharplab(&["train", "--opt", "sgd", "--out", out], dir.path());
    assert_error(&output, &["--batch-size"]);
}

#[test]
fn sharpness_of_a_non_safetensors_file_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.safetensors");
    std::fs::write(&bogus, "not tensors").unwrap();
    let bogus = bogus.to_str().unwrap();
    let output = sharplab(
        &["sharpness", "--checkpoint", bogus, "--data", bogus],
        dir.path(),
    );
    assert_error(&output, &["bogus.safetensors", "not a safetensors file"]);
}

#[test]
fn short_cifar_run_writes_trajectory_summary_and_a_checkpoint_whose_sharpness_matches() {
    let Some(_) = sharplab_data::testing::cache_or_skip(sharplab_data::DatasetName::Cifar10) else {
        return;
    };
    let data_dir = sharplab_data::testing::data_dir();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_str = out.to_str().unwrap();
    // the network, data and step size of the run and of its resumption below
    let net_and_data = [
        "train",
        "--arch",
        "fc-tanh",
        "--depth",
        "1",
        "--width",
        "32",
        "--n",
        "200",
        "--classes",
        "cat,dog",
        "--lr",
        "0.05",
        "--sharpness-every",
        "5",
        "--precision",
        "f64",
        "--out",
        out_str,
    ];
    let extra = ["--steps", "10", "--sharpness-tol", "1e-8", "--json"];
    let output = sharplab(&[&net_and_data[..], &extra[..]].concat(), &data_dir);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["status"], "completed");
    let final_sharpness = summary["final_sharpness"].as_f64().unwrap();
    let csv = std::fs::read_to_string(out.join("trajectory.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 11, "header and steps 0..=10");

    let exported = dir.path().join("data.safetensors");
    let export = sharplab(
        &[
            "data",
            "export",
            "--n",
            "200",
            "--classes",
            "cat,dog",
            "--targets",
            "onehot",
            "--out",
            exported.to_str().unwrap(),
        ],
        &data_dir,
    );
    if !export.status.success() {
        panic!(
            "data export failed: {}",
            String::from_utf8_lossy(&export.stderr)
        );
    }
    let checkpoint = out.join("checkpoint.safetensors");
    let measured = sharplab(
        &[
            "sharpness",
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--data",
            exported.to_str().unwrap(),
            "--top-k",
            "2",
            "--json",
        ],
        &data_dir,
    );
    assert!(
        measured.status.success(),
        "{}",
        String::from_utf8_lossy(&measured.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&measured.stdout).unwrap();
    // the export stores x as f32, so agreement is to f32 rounding of the inputs
    let value = report["sharpness"].as_f64().unwrap();
    assert!(
        (value - final_sharpness).abs() < 1e-4 * final_sharpness,
        "{value} vs {final_sharpness}"
    );

    // Resuming: --steps counts from the start, and the trajectory keeps the earlier rows.
    let checkpoint_str = checkpoint.to_str().unwrap();
    let resume_args = |steps: &'static str| {
        let resume = ["--resume", checkpoint_str, "--steps", steps];
        [&net_and_data[..], &resume[..]].concat()
    };
    let refused = sharplab(&resume_args("8"), &data_dir);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("step 10") && stderr.contains("--steps above 10"),
        "{stderr}"
    );
    let resumed = sharplab(&resume_args("14"), &data_dir);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let csv = std::fs::read_to_string(out.join("trajectory.csv")).unwrap();
    let steps: Vec<usize> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        steps,
        (0..=14).collect::<Vec<_>>(),
        "one row per step 0..=14"
    );
}
