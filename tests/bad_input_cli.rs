//! Bad input to `minimal`, `train` and `sharpness` on the real CIFAR-10 cache: each ends with
//! one line `error: ...` that names the input and the fix, exit code 2, and no output files.
//! Skipped without the cache, unless SHARPLAB_REQUIRE_DATA=1.

use std::path::Path;
use std::process::{Command, Output};

use sharplab_data::DatasetName;
use sharplab_data::testing::{cache_or_skip, data_dir};

fn sharplab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sharplab"))
        .arg("--quiet")
        .args(args)
        .env("SHARPLAB_DATA_DIR", data_dir())
        .output()
        .expect("the sharplab binary runs")
}

/// Asserts exit code 2 and exactly one line on stderr, `error: ...`, mentioning every needle.
fn assert_one_line_error(args: &[&str], needles: &[&str]) {
    let output = sharplab(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: not one line: {stderr}");
    assert!(lines[0].starts_with("error: "), "{args:?}: {stderr}");
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "{args:?}: `{needle}` missing from {stderr}"
        );
    }
}

fn assert_empty(out: &Path) {
    let entries = std::fs::read_dir(out).map(|e| e.count()).unwrap_or(0);
    assert_eq!(
        entries,
        0,
        "{} holds files after a refused run",
        out.display()
    );
}

#[test]
fn minimal_refuses_bad_depth_step_batch_and_size() {
    if cache_or_skip(DatasetName::Cifar10).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let run = |extra: &[&str], needles: &[&str]| {
        let mut args = vec!["minimal", "--classes", "cat,dog", "--out", out_s];
        args.extend_from_slice(extra);
        assert_one_line_error(&args, needles);
    };
    run(
        &["--n", "100", "--lr", "0.01", "--depth", "0"],
        &["depth", "D >= 1"],
    );
    run(&["--n", "100", "--lr", "0"], &["lr", "> 0"]);
    run(&["--n", "100", "--lr", "-0.5"], &["lr", "> 0"]);
    run(
        &["--n", "100", "--lr", "0.01", "--batch-size", "0"],
        &["batch_size", "B <= N"],
    );
    run(
        &["--n", "100", "--lr", "0.01", "--batch-size", "101"],
        &["101", "B <= N"],
    );
    run(
        &["--n", "20000", "--lr", "0.01"],
        &["20000", "5000", "lower N"],
    );
    run(
        &["--n", "100", "--lr", "0.01", "--lrr", "1"],
        &["--lrr", "--help"],
    );
    // a missing argument and a bad choice are named, with what to give
    run(&["--lr", "0.01"], &["required", "--n <N>"]);
    run(
        &["--n", "100", "--lr", "0.01", "--precision", "f16"],
        &["f16", "f64", "f32"],
    );
    assert_one_line_error(
        &[
            "minimal",
            "--classes",
            "cat,dog,frog",
            "--n",
            "99",
            "--lr",
            "0.01",
            "--out",
            out_s,
        ],
        &["exactly two classes", "not 3", "--classes a,b"],
    );
    assert_empty(&out);
}

#[test]
fn difficulty_refuses_negative_sizes_and_unknown_classes() {
    if cache_or_skip(DatasetName::Cifar10).is_none() {
        return;
    }
    assert_one_line_error(
        &["difficulty", "--classes", "cat,dog", "--n", "-100"],
        &["-100", "--n"],
    );
    assert_one_line_error(
        &["difficulty", "--classes", "cat,dgo", "--n", "100"],
        &["dgo", "0 to 9", "dog"],
    );
}

#[test]
fn train_refuses_zero_width_large_batches_and_unknown_names() {
    if cache_or_skip(DatasetName::Cifar10).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let run = |extra: &[&str], needles: &[&str]| {
        let mut args = vec!["train", "--n", "50", "--steps", "1", "--out", out_s];
        args.extend_from_slice(extra);
        assert_one_line_error(&args, needles);
    };
    run(&["--width", "0"], &["width", "--width 1"]);
    run(&["--opt", "sgd", "--batch-size", "60"], &["60", "N = 50"]);
    run(&["--arch", "cnn-sigmoid"], &["cnn-sigmoid", "cnn-relu"]);
    run(&["--precision", "f16"], &["f16", "f64"]);
    run(&["--loss", "hinge"], &["hinge", "mse"]);
    run(&["--sharpness-n", "0"], &["sharpness examples", "N = 50"]);
    run(&["--sharpness-n", "51"], &["51", "N = 50"]);
    run(&["--acc-goal", "2"], &["accuracy goal", "0 to 1"]);
    run(&["--loss-goal", "-1"], &["loss goal", "positive"]);
    if !cfg!(feature = "wgpu") {
        run(&["--backend", "wgpu"], &["wgpu", "--features wgpu"]);
    }
    assert_empty(&out);
}

#[test]
fn sharpness_refuses_a_checkpoint_whose_shapes_do_not_fit_the_data() {
    if cache_or_skip(DatasetName::Cifar10).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let data = dir.path().join("two-classes.safetensors");
    // a ten-class net, then data with two classes
    let trained = sharplab(&[
        "train",
        "--arch",
        "fc-tanh",
        "--depth",
        "1",
        "--width",
        "8",
        "--n",
        "30",
        "--steps",
        "1",
        "--sharpness-every",
        "0",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(
        trained.status.success(),
        "{}",
        String::from_utf8_lossy(&trained.stderr)
    );
    let exported = sharplab(&[
        "data",
        "export",
        "--classes",
        "cat,dog",
        "--n",
        "20",
        "--out",
        data.to_str().unwrap(),
    ]);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let checkpoint = run.join("checkpoint.safetensors");
    assert_one_line_error(
        &[
            "sharpness",
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ],
        &["10", "2"],
    );
}
