//! Checks on real CIFAR-10 (skipped with a note when the cache is missing): the fast path
//! against the plain oracle step by step, and how the dataset difficulty Q grows with N.

use sharplab_data::testing::cache_or_skip;
use sharplab_data::{DatasetName, Selection, Split, Standardize, SubsetSpec, Targets, subset};

use super::support::{random_vector, relative, relative_vec};
use crate::theory::{difficulty, predicted_sharpness};
use crate::{DEFAULT_CUTOFF, Init, MinimalConfig, PlainModel, Reduced, train};

/// A balanced cat/dog subset of N training images, per-feature standardized with the whole
/// training split's statistics, and its ±1 targets; None when the cache is missing.
fn cat_dog(n: usize) -> Option<(Vec<f64>, Vec<f64>, usize)> {
    let dataset = cache_or_skip(DatasetName::Cifar10)?;
    let spec = SubsetSpec {
        split: Split::Train,
        classes: Some(vec!["cat".into(), "dog".into()]),
        n,
        selection: Selection::Balanced { seed: 0 },
        standardize: Standardize::PerFeature,
    };
    let chosen = subset(dataset, &spec).expect("cat/dog subset");
    let y = chosen.targets(Targets::PlusMinusOne).expect("two classes");
    Some((chosen.x, y, chosen.d))
}

#[test]
fn fast_and_plain_gd_agree_for_1000_steps_on_cifar10() {
    let n = 120;
    let Some((x, y, d)) = cat_dog(n) else { return };
    let reduced = Reduced::new(&x, n, d, &y, DEFAULT_CUTOFF).expect("valid subset");
    let plain = PlainModel::new(&x, n, d, &y);
    let depth = 3;
    let facts = difficulty(&reduced);
    let lr = 0.5 * 2.0 / predicted_sharpness(facts.sigma1_sq_over_n, facts.q, depth);
    let mut u = random_vector(d, 0.5, 8);
    let mut v = vec![0.5; depth - 1];
    let init = Init::Explicit {
        u: u.clone(),
        v: v.clone(),
    };
    let config = MinimalConfig {
        depth,
        lr,
        steps: 1000,
        init,
        stop_at_convergence: false,
        ..MinimalConfig::default()
    };
    let mut rows = Vec::new();
    train(&reduced, &config, |row| rows.push(row.clone())).expect("valid config");
    assert_eq!(rows.len(), 1001);
    for row in &rows[1..] {
        let grad = plain.gradient(&u, &v);
        u.iter_mut().zip(&grad.u).for_each(|(p, g)| *p -= lr * g);
        v.iter_mut().zip(&grad.v).for_each(|(p, g)| *p -= lr * g);
        let loss = plain.loss(&u, &v);
        let u_norm = u.iter().map(|p| p * p).sum::<f64>().sqrt();
        assert!(
            relative(row.loss, loss, rows[0].loss) < 1e-10,
            "step {}: {} vs {loss}",
            row.step,
            row.loss
        );
        assert!(
            relative(row.u_norm, u_norm, 1e-300) < 1e-10,
            "step {}",
            row.step
        );
        assert!(relative_vec(&row.v, &v) < 1e-10, "step {}", row.step);
    }
    assert!(
        rows[1000].loss < 0.5 * rows[0].loss,
        "GD must make progress"
    );
}

#[test]
fn cifar10_difficulty_grows_faster_than_linearly_in_n() {
    let Some((x_large, y_large, d)) = cat_dog(1000) else {
        return;
    };
    let Some((x_small, y_small, _)) = cat_dog(100) else {
        return;
    };
    let small =
        difficulty(&Reduced::new(&x_small, 100, d, &y_small, DEFAULT_CUTOFF).expect("valid"));
    let large =
        difficulty(&Reduced::new(&x_large, 1000, d, &y_large, DEFAULT_CUTOFF).expect("valid"));
    eprintln!(
        "cat/dog Q: N=100 {:.3}, N=1000 {:.3} (paper: 0.22, 44.44)",
        small.q, large.q
    );
    assert!(
        large.q > 10.0 * small.q,
        "Q(1000) = {} vs 10·Q(100) = {}",
        large.q,
        10.0 * small.q
    );
}
