//! Export a subset as a safetensors file that PyTorch (`safetensors.torch.load_file`) and
//! NumPy (`safetensors.numpy.load_file`) read directly.
//!
//! Tensors: `x` f32 `[n, d]` (rows are images in CHW order; reshape to `[n, C, H, W]`),
//! `y` f32 `[n, k]` (one-hot) or f32 `[n]` (±1) or i64 `[n]` (class index), and
//! `source_indices` i64 `[n]` (row positions in the split). Metadata (all strings): dataset,
//! split, classes, class_ids, n, d, shape, selection, seed, standardize, targets.
//!
//! # Limitations
//!
//! - `x` is stored as f32: the f64 values lose digits past the seventh.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use safetensors::Dtype;
use safetensors::tensor::TensorView;

use crate::{DataError, Selection, Subset, Targets};

/// Writes `subset` and its `targets` to `path` (atomically: `path.tmp`, then rename).
pub fn export_safetensors(subset: &Subset, targets: Targets, path: &Path) -> Result<(), DataError> {
    let y = subset.targets(targets)?;
    let x_bytes: Vec<u8> = subset
        .x
        .iter()
        .flat_map(|&v| (v as f32).to_le_bytes())
        .collect();
    let (y_dtype, y_bytes): (Dtype, Vec<u8>) = match targets {
        Targets::ClassIndex => (
            Dtype::I64,
            subset
                .labels
                .iter()
                .flat_map(|&l| (l as i64).to_le_bytes())
                .collect(),
        ),
        Targets::OneHot | Targets::PlusMinusOne => (
            Dtype::F32,
            y.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect(),
        ),
    };
    let y_shape = match targets {
        Targets::OneHot => vec![subset.n, subset.num_classes()],
        Targets::ClassIndex | Targets::PlusMinusOne => vec![subset.n],
    };
    let index_bytes: Vec<u8> = subset
        .source_indices
        .iter()
        .flat_map(|&i| (i as i64).to_le_bytes())
        .collect();

    let fail = |detail: String| DataError::Export {
        path: path.to_path_buf(),
        detail,
    };
    let view =
        |dtype, shape, bytes| TensorView::new(dtype, shape, bytes).map_err(|e| fail(e.to_string()));
    let tensors = vec![
        ("x", view(Dtype::F32, vec![subset.n, subset.d], &x_bytes)?),
        ("y", view(y_dtype, y_shape, &y_bytes)?),
        (
            "source_indices",
            view(Dtype::I64, vec![subset.n], &index_bytes)?,
        ),
    ];
    let bytes = safetensors::serialize(tensors, Some(metadata(subset, targets)))
        .map_err(|e| fail(e.to_string()))?;
    crate::atomic::write_file(path, |w| w.write_all(&bytes))
}

fn metadata(subset: &Subset, targets: Targets) -> HashMap<String, String> {
    let (selection, seed) = match subset.selection {
        Selection::Balanced { seed } => ("balanced", seed.to_string()),
        Selection::FirstN => ("first-n", String::new()),
    };
    let join = |items: Vec<String>| items.join(",");
    [
        ("dataset", subset.dataset.to_string()),
        ("split", subset.split.to_string()),
        ("classes", subset.class_names.join(",")),
        (
            "class_ids",
            join(subset.classes.iter().map(|c| c.to_string()).collect()),
        ),
        ("n", subset.n.to_string()),
        ("d", subset.d.to_string()),
        (
            "shape",
            join(subset.shape.iter().map(|s| s.to_string()).collect()),
        ),
        ("selection", selection.to_string()),
        ("seed", seed),
        ("standardize", subset.standardize.to_string()),
        ("targets", targets.to_string()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dataset, DatasetName, ImageSet, Split, Standardize, SubsetSpec, subset};
    use safetensors::SafeTensors;

    #[test]
    fn exported_file_reads_back_with_the_same_values_and_metadata() {
        // Two classes, 1×1×2 pixels: image i = (i, 255 − i), labels 0, 1, 0, 1.
        let train = ImageSet {
            images: (0..4u8).flat_map(|i| [i, 255 - i]).collect(),
            labels: vec![0, 1, 0, 1],
            channels: 1,
            height: 1,
            width: 2,
        };
        let ds = Dataset::new(
            DatasetName::Cifar10,
            vec!["x".into(), "y".into()],
            train.clone(),
            train,
        );
        let spec = SubsetSpec {
            split: Split::Train,
            classes: Some(vec!["y".into(), "x".into()]),
            n: 4,
            selection: Selection::Balanced { seed: 5 },
            standardize: Standardize::None,
        };
        let s = subset(&ds, &spec).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("subset.safetensors");
        export_safetensors(&s, Targets::PlusMinusOne, &path).unwrap();

        let bytes = std::fs::read(&path).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let x = file.tensor("x").unwrap();
        assert_eq!((x.dtype(), x.shape()), (Dtype::F32, &[4, 2][..]));
        let values: Vec<f32> = x
            .data()
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        // All four images, in split order, scaled to [0, 1].
        let expected: Vec<f32> = (0..4)
            .flat_map(|i| [i as f32 / 255.0, (255 - i) as f32 / 255.0])
            .collect();
        assert_eq!(values, expected);
        let y = file.tensor("y").unwrap();
        let y: Vec<f32> = y
            .data()
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        // Class y is listed first (+1): images 1 and 3.
        assert_eq!(y, vec![-1.0, 1.0, -1.0, 1.0]);

        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let meta = header.metadata().as_ref().unwrap();
        assert_eq!(meta["classes"], "y,x");
        assert_eq!(meta["seed"], "5");
        assert_eq!(meta["targets"], "pm1");
        assert!(!crate::atomic::temp_path(&path).exists());
    }

    #[test]
    fn index_targets_are_integers() {
        let set = ImageSet {
            images: vec![1, 2, 3],
            labels: vec![2, 0, 2],
            channels: 1,
            height: 1,
            width: 1,
        };
        let names = ["a", "b", "c"].map(String::from).to_vec();
        let ds = Dataset::new(DatasetName::FashionMnist, names, set.clone(), set);
        let spec = SubsetSpec {
            split: Split::Test,
            classes: None,
            n: 3,
            selection: Selection::FirstN,
            standardize: Standardize::None,
        };
        let s = subset(&ds, &spec).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("y.safetensors");
        export_safetensors(&s, Targets::ClassIndex, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let y = file.tensor("y").unwrap();
        assert_eq!(y.dtype(), Dtype::I64);
        let labels: Vec<i64> = y
            .data()
            .chunks(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(labels, vec![2, 0, 2]);
    }
}
