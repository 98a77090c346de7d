//! A dataset's vital statistics for `sharplab data info`: per split the number of images,
//! the number per class, and each channel's mean and standard deviation on the 0..255 scale.
//!
//! # Limitations
//!
//! - Deviations are population deviations (divide by the count), as NumPy's `std`.

use serde::Serialize;

use crate::{Dataset, ImageSet, TrainStatistics};

/// What `sharplab data info --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetInfo {
    /// `cifar10` or `fashion-mnist`.
    pub dataset: String,
    /// Class names, index = class id.
    pub classes: Vec<String>,
    /// `[C, H, W]` of one image.
    pub image_shape: [usize; 3],
    pub splits: SplitsInfo,
}

/// Both splits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitsInfo {
    pub train: SplitInfo,
    pub test: SplitInfo,
}

/// One split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitInfo {
    pub count: usize,
    /// `[k]`, images per class id.
    pub per_class: Vec<usize>,
    /// `[C]`, 0..255.
    pub channel_mean: Vec<f64>,
    /// `[C]`, 0..255.
    pub channel_std: Vec<f64>,
}

/// Counts and channel statistics of both splits of `ds`.
pub fn info(ds: &Dataset) -> DatasetInfo {
    let train = ds.train_statistics();
    DatasetInfo {
        dataset: ds.name.to_string(),
        classes: ds.class_names.clone(),
        image_shape: [ds.train.channels, ds.train.height, ds.train.width],
        splits: SplitsInfo {
            train: split_info(&ds.train, train, ds.class_names.len()),
            test: split_info(
                &ds.test,
                &TrainStatistics::of(&ds.test),
                ds.class_names.len(),
            ),
        },
    }
}

fn split_info(set: &ImageSet, statistics: &TrainStatistics, classes: usize) -> SplitInfo {
    let mut per_class = vec![0; classes];
    for &label in &set.labels {
        if let Some(count) = per_class.get_mut(usize::from(label)) {
            *count += 1;
        }
    }
    SplitInfo {
        count: set.len(),
        per_class,
        channel_mean: statistics.channel_mean.iter().map(|m| m * 255.0).collect(),
        channel_std: statistics.channel_std.iter().map(|s| s * 255.0).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DatasetName;

    #[test]
    fn info_counts_classes_and_channel_moments() {
        // Train: three 2-channel 1×1 images; channel 0 holds 0, 10, 20, channel 1 holds 255 ×3.
        let train = ImageSet {
            images: vec![0, 255, 10, 255, 20, 255],
            labels: vec![0, 1, 1],
            channels: 2,
            height: 1,
            width: 1,
        };
        let test = ImageSet {
            images: vec![4, 6],
            labels: vec![1],
            ..train.clone()
        };
        let ds = Dataset::new(
            DatasetName::Cifar10,
            vec!["a".into(), "b".into()],
            train,
            test,
        );
        let report = info(&ds);
        assert_eq!(report.splits.train.count, 3);
        assert_eq!(report.splits.train.per_class, vec![1, 2]);
        assert!((report.splits.train.channel_mean[0] - 10.0).abs() < 1e-9);
        // Population std of 0, 10, 20 is sqrt(200/3).
        assert!((report.splits.train.channel_std[0] - (200.0f64 / 3.0).sqrt()).abs() < 1e-9);
        assert!((report.splits.train.channel_mean[1] - 255.0).abs() < 1e-9);
        assert_eq!(report.splits.test.per_class, vec![0, 1]);
        assert!((report.splits.test.channel_mean[1] - 6.0).abs() < 1e-9);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["splits"]["train"]["count"], 3);
        assert_eq!(json["dataset"], "cifar10");
    }
}
