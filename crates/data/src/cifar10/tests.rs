//! Tests of CIFAR-10 preparation and loading on tiny synthetic sources written to temporary
//! folders: every accepted source form and every kind of bad input.

use std::io::Write;
use std::path::{Path, PathBuf};

use image::{ImageFormat, RgbImage};
use sha2::{Digest, Sha256};

use super::images::decode_image;
use super::*;
use crate::{DataError, DatasetName, load};

const TRAIN_PER_CLASS: usize = 2;
const TEST_PER_CLASS: usize = 1;

/// Red value that encodes an image's class and number, so pairings survive shuffling.
fn red_code(label: usize, number: usize) -> u8 {
    (label * 20 + number) as u8
}

/// A uniform 32×32 image: red = `red`, green 100, blue 200, encoded as `format`.
fn encoded_image(red: u8, format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_pixel(32, 32, image::Rgb([red, 100, 200]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// `root/train/<class>/000k.png` (2 per class) and `root/test/<class>/000k.png` (1 per class).
fn write_image_folder(root: &Path) {
    for (split, per_class) in [("train", TRAIN_PER_CLASS), ("test", TEST_PER_CLASS)] {
        for (label, class) in CLASS_NAMES.iter().enumerate() {
            let dir = root.join(split).join(class);
            std::fs::create_dir_all(&dir).unwrap();
            for number in 0..per_class {
                let bytes = encoded_image(red_code(label, number), ImageFormat::Png);
                std::fs::write(dir.join(format!("{number:04}.png")), bytes).unwrap();
            }
        }
    }
}

/// A gzipped tarball of everything under `folder`, paths relative to it.
fn write_tarball(folder: &Path, out: &Path) {
    let gz = flate2::write::GzEncoder::new(std::fs::File::create(out).unwrap(), Default::default());
    let mut builder = tar::Builder::new(gz);
    builder.append_dir_all(".", folder).unwrap();
    builder.into_inner().unwrap().finish().unwrap();
}

fn sha256_hex(path: &Path) -> String {
    let digest = Sha256::digest(std::fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// One binary record: the label, then red plane `red`, green 1, blue 2.
fn record(label: u8, red: u8) -> Vec<u8> {
    let mut bytes = vec![label];
    for value in [red, 1, 2] {
        bytes.extend(std::iter::repeat_n(value, 1024));
    }
    bytes
}

/// The binary release with two records per training batch (labels 0..9 in order, red = 10 +
/// position) and three test records; returns the expected training labels.
fn write_binary_folder(dir: &Path) -> Vec<u8> {
    std::fs::create_dir_all(dir).unwrap();
    let mut labels = Vec::new();
    for batch in 0..5 {
        let mut bytes = Vec::new();
        for offset in 0..2 {
            let label = (batch * 2 + offset) as u8;
            bytes.extend(record(label, 10 + label));
            labels.push(label);
        }
        std::fs::write(dir.join(format!("data_batch_{}.bin", batch + 1)), bytes).unwrap();
    }
    let test: Vec<u8> = [7u8, 3, 5]
        .iter()
        .flat_map(|&l| record(l, 50 + l))
        .collect();
    std::fs::write(dir.join("test_batch.bin"), test).unwrap();
    std::fs::write(
        dir.join("batches.meta.txt"),
        CLASS_NAMES.join("\n") + "\n\n",
    )
    .unwrap();
    labels
}

fn cache_files(data_dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(data_dir.join("cifar10")) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn png_pixel_lands_in_chw_order() {
    let mut image = RgbImage::from_pixel(32, 32, image::Rgb([0, 0, 0]));
    image.put_pixel(1, 2, image::Rgb([7, 8, 9])); // x = 1, y = 2: flat pixel 2·32 + 1 = 65
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, ImageFormat::Png).unwrap();
    let planar = decode_image(bytes.get_ref(), Path::new("x.png")).unwrap();
    assert_eq!(
        (planar[65], planar[1024 + 65], planar[2048 + 65]),
        (7, 8, 9)
    );
    assert_eq!(planar.iter().map(|&b| u32::from(b)).sum::<u32>(), 7 + 8 + 9);
}

#[test]
fn image_folder_is_cached_shuffled_with_labels_still_matching_pixels() {
    let source = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_image_folder(source.path());
    let summary = prepare_cifar10(Some(source.path()), data.path()).unwrap();
    assert_eq!(summary.kind, SourceKind::ImageFolder);
    assert_eq!(summary.shuffle_seed, Some(CACHE_SHUFFLE_SEED));

    let ds = load(DatasetName::Cifar10, data.path()).unwrap();
    assert_eq!((ds.train.len(), ds.test.len()), (20, 10));
    for set in [&ds.train, &ds.test] {
        for (index, &label) in set.labels.iter().enumerate() {
            let image = set.image(index);
            assert_eq!(usize::from(image[0]) / 20, usize::from(label));
            assert_eq!((image[1024], image[2048]), (100, 200));
        }
    }
    let mut sorted = ds.train.labels.clone();
    sorted.sort_unstable();
    assert_ne!(ds.train.labels, sorted, "an image source is shuffled once");
    assert_eq!(ds.class_names, CLASS_NAMES);
}

#[test]
fn image_tarball_with_matching_checksum_is_cached() {
    let work = tempfile::tempdir().unwrap();
    let folder = work.path().join("images");
    write_image_folder(&folder);
    // One JPEG among the PNGs: JPEG is lossy, but its red code stays near 0 (class airplane).
    let jpeg = encoded_image(red_code(0, 0), ImageFormat::Jpeg);
    std::fs::write(folder.join("train/airplane/0000.png"), jpeg).unwrap();
    let tarball = work.path().join("cifar10-jpeg-q75.tar.gz");
    write_tarball(&folder, &tarball);
    let sums = format!("{}  cifar10-jpeg-q75.tar.gz\n", sha256_hex(&tarball));
    std::fs::write(work.path().join("SHA256SUMS"), sums).unwrap();

    let data = work.path().join("data");
    let summary = prepare_cifar10(Some(work.path()), &data).unwrap();
    assert_eq!(summary.kind, SourceKind::ImageTarball);
    assert_eq!(summary.source_sha256, Some(sha256_hex(&tarball)));
    let ds = load(DatasetName::Cifar10, &data).unwrap();
    assert_eq!((ds.train.len(), ds.test.len()), (20, 10));
}

#[test]
fn checksum_mismatch_names_the_file_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let folder = work.path().join("images");
    write_image_folder(&folder);
    let tarball = work.path().join("cifar10-jpeg-q75.tar.gz");
    write_tarball(&folder, &tarball);
    std::fs::write(
        work.path().join("SHA256SUMS"),
        format!("{}  cifar10-jpeg-q75.tar.gz\n", "0".repeat(64)),
    )
    .unwrap();

    let data = work.path().join("data");
    let err = prepare_cifar10(Some(&tarball), &data).unwrap_err();
    assert!(matches!(err, DataError::ChecksumMismatch { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("cifar10-jpeg-q75.tar.gz") && message.contains("sha256sum -c SHA256SUMS"),
        "{message}"
    );
    assert!(cache_files(&data).is_empty());
}

#[test]
fn corrupt_or_truncated_tarball_is_rejected_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let garbage = work.path().join("garbage.tar.gz");
    std::fs::write(&garbage, b"this is not gzip data at all").unwrap();
    let folder = work.path().join("images");
    write_image_folder(&folder);
    let whole = work.path().join("whole.tar.gz");
    write_tarball(&folder, &whole);
    let bytes = std::fs::read(&whole).unwrap();
    let truncated = work.path().join("truncated.tar.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();

    let data = work.path().join("data");
    for source in [&garbage, &truncated] {
        let err = prepare_cifar10(Some(source), &data).unwrap_err();
        assert!(matches!(err, DataError::CorruptArchive { .. }), "{err}");
        assert!(
            err.to_string().contains(&*source.to_string_lossy()),
            "{err}"
        );
    }
    assert!(cache_files(&data).is_empty());
}

#[test]
fn failed_prepare_keeps_the_previous_cache() {
    let work = tempfile::tempdir().unwrap();
    let good = work.path().join("good");
    write_image_folder(&good);
    let data = work.path().join("data");
    prepare_cifar10(Some(&good), &data).unwrap();

    let bad = work.path().join("bad");
    write_image_folder(&bad);
    std::fs::write(bad.join("train/ship/0001.png"), b"not an image").unwrap();
    let err = prepare_cifar10(Some(&bad), &data).unwrap_err();
    assert!(matches!(err, DataError::BadImage { .. }), "{err}");
    assert!(err.to_string().contains("ship/0001.png"), "{err}");

    assert_eq!(load(DatasetName::Cifar10, &data).unwrap().train.len(), 20);
    assert_eq!(
        cache_files(&data).len(),
        3,
        "no temporary file left: {:?}",
        cache_files(&data)
    );
}

#[test]
fn image_that_is_not_32x32_rgb_is_rejected() {
    let cases: [(&str, Vec<u8>, &str); 2] = [
        ("small", encoded_png(RgbImage::new(16, 16).into()), "16x16"),
        (
            "grey",
            encoded_png(image::GrayImage::new(32, 32).into()),
            "L8",
        ),
    ];
    for (name, bytes, expected) in cases {
        let work = tempfile::tempdir().unwrap();
        write_image_folder(work.path());
        std::fs::write(work.path().join("test/cat/0000.png"), bytes).unwrap();
        let err = prepare_cifar10(Some(work.path()), &work.path().join("data")).unwrap_err();
        assert!(matches!(err, DataError::BadImage { .. }), "{name}: {err}");
        let message = err.to_string();
        assert!(
            message.contains("cat/0000.png") && message.contains(expected),
            "{name}: {message}"
        );
    }
}

fn encoded_png(image: image::DynamicImage) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, ImageFormat::Png).unwrap();
    bytes.into_inner()
}

#[test]
fn missing_class_folder_is_reported() {
    let work = tempfile::tempdir().unwrap();
    write_image_folder(work.path());
    std::fs::remove_dir_all(work.path().join("test/truck")).unwrap();
    let err = prepare_cifar10(Some(work.path()), &work.path().join("data")).unwrap_err();
    assert!(matches!(err, DataError::IncompleteSource { .. }), "{err}");
    assert!(
        err.to_string().contains("test/ has images for classes"),
        "{err}"
    );
}

#[test]
fn binary_folder_keeps_the_original_order() {
    let work = tempfile::tempdir().unwrap();
    let batches = work.path().join("cifar-10-batches-bin");
    let expected_labels = write_binary_folder(&batches);
    let data = work.path().join("data");
    let summary = prepare_cifar10(Some(work.path()), &data).unwrap();
    assert_eq!(
        (summary.kind, summary.shuffle_seed),
        (SourceKind::BinaryFolder, None)
    );

    let ds = load(DatasetName::Cifar10, &data).unwrap();
    assert_eq!(ds.train.labels, expected_labels);
    let reds: Vec<u8> = (0..ds.train.len()).map(|i| ds.train.image(i)[0]).collect();
    assert_eq!(reds, (10..20).collect::<Vec<u8>>());
    assert_eq!(ds.test.labels, vec![7, 3, 5]);
    assert_eq!(
        ds.test.image(0)[1024..]
            .iter()
            .map(|&b| u32::from(b))
            .sum::<u32>(),
        1024 + 2048
    );
}

#[test]
fn binary_tarball_is_read_in_one_pass() {
    let work = tempfile::tempdir().unwrap();
    let expected_labels = write_binary_folder(&work.path().join("release/cifar-10-batches-bin"));
    let tarball = work.path().join("cifar-10-binary.tar.gz");
    write_tarball(&work.path().join("release"), &tarball);
    let data = work.path().join("data");
    let summary = prepare_cifar10(Some(&tarball), &data).unwrap();
    assert_eq!(summary.kind, SourceKind::BinaryTarball);
    assert_eq!(
        load(DatasetName::Cifar10, &data).unwrap().train.labels,
        expected_labels
    );
}

#[test]
fn truncated_or_missing_batch_is_named() {
    let work = tempfile::tempdir().unwrap();
    write_binary_folder(work.path());
    let batch = work.path().join("data_batch_3.bin");
    let bytes = std::fs::read(&batch).unwrap();
    std::fs::write(&batch, &bytes[..bytes.len() - 10]).unwrap();
    let err = prepare_cifar10(Some(work.path()), &work.path().join("data")).unwrap_err();
    assert!(matches!(err, DataError::TruncatedBatch { .. }), "{err}");
    assert!(err.to_string().contains("data_batch_3.bin"), "{err}");

    std::fs::remove_file(&batch).unwrap();
    let err = prepare_cifar10(Some(work.path()), &work.path().join("data")).unwrap_err();
    assert!(
        err.to_string().contains("data_batch_3.bin is missing"),
        "{err}"
    );
    assert!(cache_files(&work.path().join("data")).is_empty());
}

#[test]
fn unknown_or_absent_source_lists_the_accepted_forms() {
    let work = tempfile::tempdir().unwrap();
    let err = prepare_cifar10(Some(work.path()), &work.path().join("data")).unwrap_err();
    assert!(matches!(err, DataError::UnrecognizedSource { .. }), "{err}");
    let absent = work.path().join("nowhere");
    let err = prepare_cifar10(Some(&absent), &work.path().join("data")).unwrap_err();
    assert!(matches!(err, DataError::SourceMissing { .. }), "{err}");
    assert!(err.to_string().contains("cifar-10-batches-bin"), "{err}");
}

#[test]
fn missing_cache_says_how_to_make_it() {
    let data = tempfile::tempdir().unwrap();
    let err = load(DatasetName::Cifar10, data.path()).unwrap_err();
    assert!(matches!(err, DataError::CacheMissing { .. }), "{err}");
    assert!(err.to_string().contains("sharplab data prepare"), "{err}");
}

#[test]
fn older_or_damaged_cache_asks_to_rerun_prepare() {
    let work = tempfile::tempdir().unwrap();
    write_binary_folder(work.path());
    let data = work.path().join("data");
    prepare_cifar10(Some(work.path()), &data).unwrap();

    let format_path = data.join("cifar10/format.json");
    let current = std::fs::read_to_string(&format_path).unwrap();
    std::fs::write(
        &format_path,
        r#"{"format_version": 0, "records": "old layout"}"#,
    )
    .unwrap();
    let err = load(DatasetName::Cifar10, &data).unwrap_err();
    assert!(matches!(err, DataError::CacheFormat { .. }), "{err}");
    assert!(
        err.to_string().contains("rerun `sharplab data prepare`"),
        "{err}"
    );

    std::fs::write(&format_path, current).unwrap();
    let train = data.join("cifar10/train.bin");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&train)
        .unwrap();
    file.write_all(&[0; 100]).unwrap();
    let err = load(DatasetName::Cifar10, &data).unwrap_err();
    assert!(matches!(err, DataError::CacheCorrupt { .. }), "{err}");
    assert!(err.to_string().contains("train.bin"), "{err}");
}

#[test]
fn no_source_found_says_what_to_pass() {
    let empty = tempfile::tempdir().unwrap();
    let err = first_tarball_folder(&[empty.path().join("shared/cifar10")]).unwrap_err();
    assert!(matches!(err, DataError::NoSource { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("--from PATH") && message.contains("shared/cifar10"),
        "{message}"
    );
}
