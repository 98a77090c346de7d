//! The reduced gradient, Hessian-vector product and sharpness against the plain O(N·d) oracle,
//! central finite differences (Richardson-extrapolated) and a dense eigen-decomposition.

use super::support::{dense_eigenvalues, random_problem, random_vector, relative, relative_vec};
use crate::{Arrowhead, PlainModel, Reduced, ReducedModel};

/// The reduced gradient, lifted back to (u, v) coordinates.
fn reduced_gradient(reduced: &Reduced, u: &[f64], v: &[f64]) -> Vec<f64> {
    let model = ReducedModel::<f64>::new(reduced);
    let (alpha, _) = reduced.split(u);
    let mut grad_alpha = vec![0.0; reduced.rank()];
    let mut grad_v = vec![0.0; v.len()];
    model.gradient(&alpha, v, &mut grad_alpha, &mut grad_v);
    let mut full = reduced.lift(&grad_alpha);
    full.extend(grad_v);
    full
}

/// The reduced Hessian-vector product, lifted back to (u, v) coordinates.
fn reduced_hvp(reduced: &Reduced, u: &[f64], v: &[f64], a: &[f64], b: &[f64]) -> Vec<f64> {
    let (alpha, _) = reduced.split(u);
    let (dir_alpha, _) = reduced.split(a);
    let hessian = Arrowhead::at(
        reduced.sigma(),
        reduced.target_coef(),
        reduced.n(),
        &alpha,
        v,
    );
    let product = hessian.apply(&dir_alpha, b);
    let mut full = reduced.lift(&product[..reduced.rank()]);
    full.extend_from_slice(&product[reduced.rank()..]);
    full
}

/// Central differences of `gradient` along (a, b), Richardson-extrapolated to O(h⁴).
fn finite_difference(
    gradient: impl Fn(&[f64], &[f64]) -> Vec<f64>,
    u: &[f64],
    v: &[f64],
    a: &[f64],
    b: &[f64],
) -> Vec<f64> {
    let central = |h: f64| -> Vec<f64> {
        let shift = |sign: f64| {
            let up: Vec<f64> = u.iter().zip(a).map(|(x, d)| x + sign * h * d).collect();
            let vp: Vec<f64> = v.iter().zip(b).map(|(x, d)| x + sign * h * d).collect();
            gradient(&up, &vp)
        };
        let (plus, minus) = (shift(1.0), shift(-1.0));
        plus.iter()
            .zip(&minus)
            .map(|(p, m)| (p - m) / (2.0 * h))
            .collect()
    };
    let (coarse, fine) = (central(1e-3), central(5e-4));
    fine.iter()
        .zip(&coarse)
        .map(|(f, c)| (4.0 * f - c) / 3.0)
        .collect()
}

const DEPTHS: [usize; 4] = [1, 2, 3, 5];
/// (N, d): fewer samples than features, more samples than features.
const SHAPES: [(usize, usize); 2] = [(7, 12), (15, 6)];

#[test]
fn reduced_gradient_equals_plain_gradient() {
    for (case, &(n, d)) in SHAPES.iter().enumerate() {
        let (x, y) = random_problem(n, d, 10 + case as u64);
        let reduced = Reduced::new(&x, n, d, &y, 1e-12).expect("valid problem");
        let plain = PlainModel::new(&x, n, d, &y);
        for depth in DEPTHS {
            let u = random_vector(d, 0.7, 20 + depth as u64);
            let v = random_vector(depth - 1, 0.9, 30 + depth as u64);
            let expected = plain.gradient(&u, &v);
            let expected: Vec<f64> = expected.u.into_iter().chain(expected.v).collect();
            let got = reduced_gradient(&reduced, &u, &v);
            assert!(
                relative_vec(&got, &expected) < 1e-12,
                "N={n} d={d} D={depth}"
            );
        }
    }
}

#[test]
fn hvp_matches_central_differences_of_the_gradient() {
    for (case, &(n, d)) in SHAPES.iter().enumerate() {
        let (x, y) = random_problem(n, d, 40 + case as u64);
        let reduced = Reduced::new(&x, n, d, &y, 1e-12).expect("valid problem");
        let plain = PlainModel::new(&x, n, d, &y);
        for depth in DEPTHS {
            let u = random_vector(d, 0.6, 50 + depth as u64);
            let v = random_vector(depth - 1, 0.8, 60 + depth as u64);
            let a = random_vector(d, 1.0, 70 + depth as u64);
            let b = random_vector(depth - 1, 1.0, 80 + depth as u64);

            let fd_fast =
                finite_difference(|u, v| reduced_gradient(&reduced, u, v), &u, &v, &a, &b);
            let fast = reduced_hvp(&reduced, &u, &v, &a, &b);
            assert!(
                relative_vec(&fast, &fd_fast) < 1e-8,
                "fast HVP, N={n} d={d} D={depth}: {}",
                relative_vec(&fast, &fd_fast)
            );

            let fd_plain = finite_difference(
                |u, v| {
                    let g = plain.gradient(u, v);
                    g.u.into_iter().chain(g.v).collect()
                },
                &u,
                &v,
                &a,
                &b,
            );
            let slow = plain.hvp(&u, &v, &a, &b);
            let slow: Vec<f64> = slow.u.into_iter().chain(slow.v).collect();
            assert!(
                relative_vec(&slow, &fd_plain) < 1e-8,
                "plain HVP, N={n} d={d} D={depth}"
            );
        }
    }
}

/// The sharpness from the secular equation against the dense plain Hessian's top eigenvalue.
fn check_sharpness(
    x: &[f64],
    y: &[f64],
    n: usize,
    d: usize,
    u: &[f64],
    v: &[f64],
) -> (f64, f64, f64) {
    let reduced = Reduced::new(x, n, d, y, 1e-12).expect("valid problem");
    let plain = PlainModel::new(x, n, d, y);
    let eigenvalues = dense_eigenvalues(&plain.dense_hessian(u, v), d + v.len());
    let (lowest, top) = (eigenvalues[0], eigenvalues[eigenvalues.len() - 1]);
    let (alpha, _) = reduced.split(u);
    let hessian = Arrowhead::at(reduced.sigma(), reduced.target_coef(), n, &alpha, v);
    let cold = hessian.top_eigenvalue(None);
    let warm = hessian.top_eigenvalue(Some(top * 1.3));
    // tracked from the result at a nearby point, as training does
    let nearby_v: Vec<f64> = v.iter().map(|x| x * 1.001).collect();
    let nearby = Arrowhead::at(reduced.sigma(), reduced.target_coef(), n, &alpha, &nearby_v);
    let tracked = hessian
        .top_eigenvalue_tracked(Some(nearby.top_eigenvalue_tracked(None)))
        .value;
    assert!(
        relative(tracked, top, 1e-300) < 1e-8,
        "D={} tracked {tracked} vs dense {top}",
        v.len() + 1
    );
    assert!(
        relative(cold, top, 1e-300) < 1e-8,
        "D={} cold {cold} vs dense {top}",
        v.len() + 1
    );
    assert!(
        relative(warm, top, 1e-300) < 1e-8,
        "D={} warm {warm} vs dense {top}",
        v.len() + 1
    );
    (cold, top, lowest)
}

#[test]
fn sharpness_matches_dense_eigendecomposition() {
    for (case, &(n, d)) in SHAPES.iter().enumerate() {
        let (x, y) = random_problem(n, d, 90 + case as u64);
        for depth in DEPTHS {
            for trial in 0..3u64 {
                let seed = 100 * depth as u64 + 10 * trial;
                let u = random_vector(d, 0.5 + trial as f64, seed);
                let v = random_vector(depth - 1, 0.5 + 0.5 * trial as f64, seed + 1);
                check_sharpness(&x, &y, n, d, &u, &v);
            }
        }
    }
}

#[test]
fn sharpness_is_the_largest_algebraic_eigenvalue_not_the_largest_magnitude() {
    // D = 5 with v = t(1, 1, 1, −1) and a fit anti-aligned with y: the v-block is close to
    // −zᵀy/N·t²·(J − I) conjugated by a sign flip, with eigenvalues ≈ −3c and c (c > 0).
    let (n, d) = (8, 10);
    let (x, y) = random_problem(n, d, 7);
    let plain = PlainModel::new(&x, n, d, &y);
    let xt_y: Vec<f64> = (0..d)
        .map(|j| (0..n).map(|i| x[i * d + j] * y[i]).sum())
        .collect();
    let u: Vec<f64> = xt_y.iter().map(|g| -0.5 * g).collect();
    let v = [0.3, 0.3, 0.3, -0.3];
    assert!(plain.loss(&u, &v).is_finite());
    let (ours, top, lowest) = check_sharpness(&x, &y, n, d, &u, &v);
    assert!(
        lowest.abs() > 1.5 * top,
        "the construction must make |λ_min| dominate: {lowest} vs {top}"
    );
    assert!(ours > 0.0);
}

#[test]
fn linear_regression_sharpness_is_the_top_eigenvalue_of_the_covariance() {
    // D = 1: ∇²L = XᵀX/N, so S = λ_max(XᵀX)/N, computed here from XᵀX directly.
    let (n, d) = (9, 5);
    let (x, y) = random_problem(n, d, 3);
    let gram: Vec<f64> = (0..d * d)
        .map(|jk| {
            (0..n)
                .map(|i| x[i * d + jk / d] * x[i * d + jk % d])
                .sum::<f64>()
                / n as f64
        })
        .collect();
    let expected = *dense_eigenvalues(&gram, d).last().expect("d > 0");
    let reduced = Reduced::new(&x, n, d, &y, 1e-12).expect("valid problem");
    let (alpha, _) = reduced.split(&random_vector(d, 1.0, 4));
    let ours =
        Arrowhead::at(reduced.sigma(), reduced.target_coef(), n, &alpha, &[]).top_eigenvalue(None);
    assert!(relative(ours, expected, 1e-300) < 1e-12);
}

#[test]
fn rank_deficient_data_drops_tiny_singular_values_and_keeps_the_sharpness() {
    // Centre the rows on their own mean: rank N − 1, one σ at rounding level.
    let (n, d) = (6, 9);
    let (mut x, y) = random_problem(n, d, 5);
    for j in 0..d {
        let mean = (0..n).map(|i| x[i * d + j]).sum::<f64>() / n as f64;
        (0..n).for_each(|i| x[i * d + j] -= mean);
    }
    let reduced = Reduced::new(&x, n, d, &y, 1e-10).expect("valid problem");
    assert_eq!(reduced.rank(), n - 1);
    assert_eq!(reduced.dropped(), 1);
    let u = random_vector(d, 0.8, 6);
    check_sharpness(&x, &y, n, d, &u, &[0.7, -1.1]);
}
