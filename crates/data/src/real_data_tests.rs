//! Tests on the real datasets, through [`crate::testing::cache_or_skip`]: counts and channel
//! means against the published figures, balanced subsets, and per-feature standardization of
//! the whole training split checked by recomputing its moments here.

use crate::testing::cache_or_skip;
use crate::{Dataset, DatasetName, Selection, Split, Standardize, SubsetSpec, info, subset};

fn spec(
    classes: Option<&[&str]>,
    n: usize,
    selection: Selection,
    standardize: Standardize,
) -> SubsetSpec {
    SubsetSpec {
        split: Split::Train,
        classes: classes.map(|list| list.iter().map(|s| s.to_string()).collect()),
        n,
        selection,
        standardize,
    }
}

#[test]
fn cifar10_counts_and_channel_means_match_published_figures() {
    let Some(ds) = cache_or_skip(DatasetName::Cifar10) else {
        return;
    };
    let report = info(ds);
    assert_eq!(
        (report.splits.train.count, report.splits.test.count),
        (50_000, 10_000)
    );
    assert_eq!(report.splits.train.per_class, vec![5_000; 10]);
    assert_eq!(report.splits.test.per_class, vec![1_000; 10]);
    // Krizhevsky's release: 125.3, 122.9, 113.9 on the 0..255 scale.
    for (mean, published) in report
        .splits
        .train
        .channel_mean
        .iter()
        .zip([125.3, 122.9, 113.9])
    {
        assert!(
            (mean - published).abs() < 1.0,
            "channel mean {mean} vs published {published}"
        );
    }
}

#[test]
fn fashion_mnist_counts_and_mean_match_published_figures() {
    let Some(ds) = cache_or_skip(DatasetName::FashionMnist) else {
        return;
    };
    let report = info(ds);
    assert_eq!(
        (report.splits.train.count, report.splits.test.count),
        (60_000, 10_000)
    );
    assert_eq!(report.splits.train.per_class, vec![6_000; 10]);
    assert_eq!(report.splits.test.per_class, vec![1_000; 10]);
    assert_eq!(report.image_shape, [1, 28, 28]);
    // Widely quoted training-set moments: mean 0.2860, std 0.3530 on the [0, 1] scale.
    assert!((report.splits.train.channel_mean[0] / 255.0 - 0.2860).abs() < 1e-3);
    assert!((report.splits.train.channel_std[0] / 255.0 - 0.3530).abs() < 1e-3);
}

#[test]
fn balanced_cat_dog_subset_of_1000_is_500_each() {
    let Some(ds) = cache_or_skip(DatasetName::Cifar10) else {
        return;
    };
    let s = subset(
        ds,
        &spec(
            Some(&["cat", "dog"]),
            1000,
            Selection::Balanced { seed: 0 },
            Standardize::None,
        ),
    )
    .unwrap();
    let cats: Vec<usize> = s
        .source_indices
        .iter()
        .copied()
        .filter(|&i| ds.train.labels[i] == 3)
        .collect();
    let dogs: Vec<usize> = s
        .source_indices
        .iter()
        .copied()
        .filter(|&i| ds.train.labels[i] == 5)
        .collect();
    assert_eq!((cats.len(), dogs.len()), (500, 500));
    assert_eq!((s.n, s.d), (1000, 3072));
    let mut unique = s.source_indices.clone();
    unique.dedup();
    assert_eq!(unique.len(), 1000);
}

#[test]
fn same_seed_same_real_subset_other_seed_other_subset() {
    let Some(ds) = cache_or_skip(DatasetName::Cifar10) else {
        return;
    };
    let pick = |seed| {
        let s = spec(
            Some(&["cat", "dog"]),
            100,
            Selection::Balanced { seed },
            Standardize::None,
        );
        subset(ds, &s).unwrap().source_indices
    };
    assert_eq!(pick(7), pick(7));
    assert_ne!(pick(7), pick(8));
}

/// Standardizes the whole training split class by class with [`subset`] and checks that every
/// feature then has mean 0 and standard deviation 1 over the split.
fn check_whole_split_standardized(ds: &Dataset) {
    let d = ds.train.image_len();
    let mut sums = vec![0.0f64; d];
    let mut square_sums = vec![0.0f64; d];
    let mut rows = 0usize;
    for class in 0..ds.class_names.len() {
        let count = ds
            .train
            .labels
            .iter()
            .filter(|&&l| usize::from(l) == class)
            .count();
        let class_name = class.to_string();
        let s = subset(
            ds,
            &spec(
                Some(&[&class_name]),
                count,
                Selection::FirstN,
                Standardize::PerFeature,
            ),
        )
        .unwrap();
        for row in s.x.chunks_exact(d) {
            for ((sum, square_sum), &value) in sums.iter_mut().zip(&mut square_sums).zip(row) {
                *sum += value;
                *square_sum += value * value;
            }
        }
        rows += s.n;
    }
    assert_eq!(rows, ds.train.len());
    let n = rows as f64;
    for j in 0..d {
        let mean = sums[j] / n;
        let std = (square_sums[j] / n - mean * mean).sqrt();
        assert!(mean.abs() < 1e-9, "feature {j}: mean {mean}");
        assert!((std - 1.0).abs() < 1e-6, "feature {j}: std {std}");
    }
}

#[test]
fn cifar10_per_feature_standardization_zeroes_mean_and_units_std() {
    let Some(ds) = cache_or_skip(DatasetName::Cifar10) else {
        return;
    };
    check_whole_split_standardized(ds);
}

#[test]
fn fashion_mnist_per_feature_standardization_zeroes_mean_and_units_std() {
    let Some(ds) = cache_or_skip(DatasetName::FashionMnist) else {
        return;
    };
    check_whole_split_standardized(ds);
}
