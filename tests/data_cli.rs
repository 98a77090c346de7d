//! End-to-end tests of `sharplab data` on a tiny synthetic CIFAR-10 binary release: a good
//! prepare and export, and bad input ending in one `error:` line and exit code 2.

use std::path::Path;
use std::process::{Command, Output};

const CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

fn sharplab(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sharplab"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("-q")
        .args(args)
        .output()
        .expect("the sharplab binary runs")
}

/// Asserts exit code 2 and a single stderr line `error: …` that contains `needle`.
fn assert_one_line_error(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr: {stderr}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(needle),
        "stderr: {stderr}"
    );
}

/// The binary release with two records per class in the training batches (labels 0..9
/// twice over five batches) and one per class in the test batch.
fn write_binary_release(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let record = |label: u8| {
        let mut bytes = vec![label];
        bytes.extend(std::iter::repeat_n(label * 20, 3072));
        bytes
    };
    for batch in 0..5u8 {
        let bytes: Vec<u8> = (0..4).flat_map(|i| record((batch * 4 + i) % 10)).collect();
        std::fs::write(dir.join(format!("data_batch_{}.bin", batch + 1)), bytes).unwrap();
    }
    std::fs::write(
        dir.join("test_batch.bin"),
        (0..10).flat_map(record).collect::<Vec<u8>>(),
    )
    .unwrap();
    std::fs::write(dir.join("batches.meta.txt"), CLASSES.join("\n")).unwrap();
}

#[test]
fn prepare_then_export_writes_a_safetensors_file() {
    let work = tempfile::tempdir().unwrap();
    write_binary_release(&work.path().join("cifar-10-batches-bin"));
    let data = work.path().join("data");
    let prepared = sharplab(
        &data,
        &["data", "prepare", "--from", work.path().to_str().unwrap()],
    );
    assert!(
        prepared.status.success(),
        "{}",
        String::from_utf8_lossy(&prepared.stderr)
    );

    let out = work.path().join("cats_dogs.safetensors");
    let args = [
        "data",
        "export",
        "--out",
        out.to_str().unwrap(),
        "--n",
        "4",
        "--classes",
        "cat,dog",
        "--targets",
        "pm1",
    ];
    let exported = sharplab(&data, &args);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    // Header: 8-byte little-endian length, then JSON naming x with shape [4, 3072].
    let bytes = std::fs::read(&out).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8_lossy(&bytes[8..8 + header_len]);
    assert!(header.contains(r#""shape":[4,3072]"#), "{header}");
    // x: 4·3072 f32, y: 4 f32, source_indices: 4 i64.
    assert_eq!(bytes.len() - 8 - header_len, 4 * 3072 * 4 + 4 * 4 + 4 * 8);
}

#[test]
fn bad_input_ends_in_one_error_line_and_exit_code_2() {
    let work = tempfile::tempdir().unwrap();
    let empty = work.path().join("empty");
    let output = sharplab(&empty, &["data", "info", "--dataset", "cifar10"]);
    assert_one_line_error(&output, "sharplab data prepare");

    let nowhere = work.path().join("nowhere");
    let output = sharplab(
        &empty,
        &["data", "prepare", "--from", nowhere.to_str().unwrap()],
    );
    assert_one_line_error(&output, "nowhere does not exist");

    write_binary_release(&work.path().join("cifar-10-batches-bin"));
    let data = work.path().join("data");
    assert!(
        sharplab(
            &data,
            &["data", "prepare", "--from", work.path().to_str().unwrap()]
        )
        .status
        .success()
    );
    let out = work.path().join("x.safetensors");
    let export = |classes: &str, n: &str| {
        let args = [
            "data",
            "export",
            "--out",
            out.to_str().unwrap(),
            "--n",
            n,
            "--classes",
            classes,
        ];
        sharplab(&data, &args)
    };
    assert_one_line_error(&export("", "2"), "class list is empty");
    assert_one_line_error(&export("cat,unicorn", "2"), "no class `unicorn`");
    assert_one_line_error(&export("cat,dog", "10"), "holds only 2");
    assert!(!out.exists());
    let npy = work.path().join("x.npy");
    let wrong_format = sharplab(
        &data,
        &["data", "export", "--out", npy.to_str().unwrap(), "--n", "2"],
    );
    assert_one_line_error(&wrong_format, "*.safetensors");
    assert!(!npy.exists());
}
