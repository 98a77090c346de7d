//! The theory functions against independent constructions: Q against a least-squares solve by
//! normal equations, and the sharpness bounds at exactly constructed global minima.

use faer::linalg::solvers::Solve;

use super::support::{dense_eigenvalues, random_problem, relative};
use crate::theory::{
    balanced_minimum_bounds, difficulty, imbalance_minimum_bounds, minimum_v_sq,
    predicted_sharpness,
};
use crate::{PlainModel, Reduced};

#[test]
fn difficulty_equals_the_norm_of_the_minimum_norm_solution() {
    // N < d: X⁺y = Xᵀ(XXᵀ)⁻¹y, solved here by Cholesky on XXᵀ (faer), not by an SVD.
    let (n, d) = (6, 11);
    let (x, y) = random_problem(n, d, 21);
    let gram = faer::Mat::<f64>::from_fn(n, n, |i, k| {
        (0..d).map(|j| x[i * d + j] * x[k * d + j]).sum()
    });
    let rhs = faer::Mat::<f64>::from_fn(n, 1, |i, _| y[i]);
    let solved = gram
        .llt(faer::Side::Lower)
        .expect("XXᵀ is positive definite")
        .solve(&rhs);
    let minimum_norm: Vec<f64> = (0..d)
        .map(|j| (0..n).map(|i| x[i * d + j] * solved[(i, 0)]).sum())
        .collect();
    let expected: f64 = minimum_norm.iter().map(|w| w * w).sum();

    let reduced = Reduced::new(&x, n, d, &y, 1e-12).expect("valid problem");
    let facts = difficulty(&reduced);
    assert!(
        relative(facts.q, expected, 1e-300) < 1e-10,
        "{} vs {expected}",
        facts.q
    );
    assert_eq!(facts.rank, n);
}

#[test]
fn predicted_sharpness_follows_the_power_law() {
    // Ŝ_D = (σ₁²/N)Q^{(D−1)/D}: D = 1 gives σ₁²/N, D = 2 gives (σ₁²/N)√Q.
    assert_eq!(predicted_sharpness(3.0, 16.0, 1), 3.0);
    assert!((predicted_sharpness(3.0, 16.0, 2) - 12.0).abs() < 1e-12);
    assert!((predicted_sharpness(3.0, 16.0, 4) - 3.0 * 8.0).abs() < 1e-12);
}

/// The top eigenvalue of the plain O(N·d) implementation's dense d + D − 1 Hessian at
/// (u = Wα, v): independent of the reduced coordinates and the arrowhead.
fn dense_sharpness(reduced: &Reduced, x: &[f64], y: &[f64], alpha: &[f64], v: &[f64]) -> f64 {
    let (n, d) = (reduced.n(), reduced.d());
    let u = reduced.lift(alpha);
    let plain = PlainModel::new(x, n, d, y);
    *dense_eigenvalues(&plain.dense_hessian(&u, v), d + v.len())
        .last()
        .expect("non-empty")
}

#[test]
fn d2_bounds_contain_the_sharpness_of_constructed_minima() {
    // A global minimum with second layer v: σᵢαᵢv = dᵢ, so ‖α‖² = Q/v² and C = Q/v² − v².
    let (n, d) = (7, 12);
    let (x, y) = random_problem(n, d, 22);
    let reduced = Reduced::new(&x, n, d, &y, 1e-12).expect("valid problem");
    let facts = difficulty(&reduced);
    for v in [0.3, 1.0, 2.5] {
        let alpha: Vec<f64> = reduced
            .sigma()
            .iter()
            .zip(reduced.target_coef())
            .map(|(s, c)| c / (s * v))
            .collect();
        let imbalance = facts.q / (v * v) - v * v;
        assert!(relative(minimum_v_sq(imbalance, facts.q), v * v, 1e-300) < 1e-12);
        let sharpness = dense_sharpness(&reduced, &x, &y, &alpha, &[v]);
        let bounds = imbalance_minimum_bounds(&facts, imbalance);
        let slack = 1e-10 * sharpness;
        assert!(
            bounds.lower - slack <= sharpness && sharpness <= bounds.upper + slack,
            "v={v}: {bounds:?} vs {sharpness}"
        );
    }
}

#[test]
fn balanced_bounds_contain_the_sharpness_of_balanced_minima() {
    // Every layer with squared norm Q^{1/D}: vᵢ = Q^{1/2D}, α = d/(σP).
    let (n, d) = (7, 12);
    let (x, y) = random_problem(n, d, 23);
    let reduced = Reduced::new(&x, n, d, &y, 1e-12).expect("valid problem");
    let facts = difficulty(&reduced);
    for depth in [2usize, 3, 5] {
        let layer = facts.q.powf(0.5 / depth as f64);
        let v = vec![layer; depth - 1];
        let product = layer.powi(depth as i32 - 1);
        let alpha: Vec<f64> = reduced
            .sigma()
            .iter()
            .zip(reduced.target_coef())
            .map(|(s, c)| c / (s * product))
            .collect();
        let alpha_sq: f64 = alpha.iter().map(|a| a * a).sum();
        assert!(
            relative(alpha_sq, layer * layer, 1e-300) < 1e-10,
            "balanced construction"
        );
        let sharpness = dense_sharpness(&reduced, &x, &y, &alpha, &v);
        let bounds = balanced_minimum_bounds(&facts, depth);
        let slack = 1e-10 * sharpness;
        assert!(
            bounds.lower - slack <= sharpness && sharpness <= bounds.upper + slack,
            "D={depth}: {bounds:?} vs {sharpness}"
        );
        let predicted = predicted_sharpness(facts.sigma1_sq_over_n, facts.q, depth);
        assert!(
            predicted <= bounds.lower,
            "Ŝ_D is the leading term of the lower bound"
        );
    }
}
