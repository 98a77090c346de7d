//! The exact Hessian of the minimalist model in reduced coordinates, an arrowhead matrix, and
//! its top (largest algebraic) eigenvalue — the sharpness S(θ) — from a secular equation.
//!
//! Notation: zᵢ = σᵢαᵢ, ρᵢ = Pzᵢ − dᵢ, m = D − 1, pₖ = P₋ₖ. In the r + m coordinates (α, v)
//!
//! ```text
//!   ∇²L = [ diag(a)   b pᵀ ]     aᵢ = P²σᵢ²/N,   bᵢ = σᵢ(ρᵢ + Pzᵢ)/N,
//!         [ p bᵀ      M    ]     Mₖₖ = pₖ²zᵀz/N, Mₖₗ = pₖpₗzᵀz/N + P₋ₖₗ zᵀρ/N
//! ```
//!
//! The border is rank one (b pᵀ). For λ > max aᵢ, ∇²L − λI is negative definite exactly when
//! its Schur complement M − λI − g(λ)ppᵀ is, with g(λ) = Σ bᵢ²/(aᵢ − λ); so the sharpness is
//! the unique root of φ(λ) = λ_max(M − g(λ)ppᵀ) − λ, which is strictly decreasing, bracketed by
//! max(max a, λ_max(M)) (interlacing) and that plus ‖b‖‖p‖ (Weyl). Safeguarded Newton finds it
//! in a few O(r) evaluations from a warm start. The u-directions outside W add zero eigenvalues
//! only, and the sharpness is never negative (aᵢ ≥ 0), so they never matter.
//!
//! # Limitations
//!
//! The m × m eigenproblem is solved by cyclic Jacobi rotations: fine for the depths studied
//! (D ≤ 20), quadratic in m per sweep beyond that.

use crate::model::products;

/// Independent partial sums in the O(r) loops, so they vectorize.
const LANES: usize = 4;

/// A top eigenvalue and how far it lay above the lower end of its search bracket (the larger
/// of max aᵢ and λ_max(M)): what [`Arrowhead::top_eigenvalue_tracked`] starts the next search
/// from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tracked {
    /// The eigenvalue.
    pub value: f64,
    gap: f64,
}

impl Tracked {
    fn at(value: f64, lower: f64) -> Self {
        Tracked {
            value,
            gap: value - lower,
        }
    }
}

/// The Hessian ∇²L at (α, v) in reduced coordinates, kept in arrowhead form.
#[derive(Debug, Clone)]
pub struct Arrowhead {
    diag: Vec<f64>,   // [r], aᵢ
    border: Vec<f64>, // [r], bᵢ
    loo: Vec<f64>,    // [m], pₖ = P₋ₖ
    block: Vec<f64>,  // [m, m], M
}

impl Arrowhead {
    /// Builds the Hessian at (α, v) from the singular values σ, the target coefficients dᵢ and
    /// N. Cost O(r + m³).
    pub fn at(sigma: &[f64], target_coef: &[f64], n: usize, alpha: &[f64], v: &[f64]) -> Self {
        let mut hessian = Arrowhead {
            diag: Vec::new(),
            border: Vec::new(),
            loo: Vec::new(),
            block: Vec::new(),
        };
        hessian.update(sigma, target_coef, n, alpha, v);
        hessian
    }

    /// Rebuilds this Hessian at a new point, reusing its memory (the training loop's path).
    pub fn update(
        &mut self,
        sigma: &[f64],
        target_coef: &[f64],
        n: usize,
        alpha: &[f64],
        v: &[f64],
    ) {
        let inv_n = 1.0 / n as f64;
        let (product, loo) = products(v);
        let m = v.len();
        let r = sigma.len();
        self.diag.resize(r, 0.0);
        self.border.resize(r, 0.0);
        let (mut fit_sq, mut fit_dot_residual) = ([0.0; LANES], [0.0; LANES]);
        let rows = sigma
            .iter()
            .zip(target_coef)
            .zip(alpha)
            .zip(self.diag.iter_mut().zip(self.border.iter_mut()));
        for (k, (((&s, &c), &a), (diag, border))) in rows.enumerate() {
            let z = s * a;
            let residual = product * z - c;
            *diag = product * product * s * s * inv_n;
            *border = s * (residual + product * z) * inv_n;
            fit_sq[k % LANES] += z * z;
            fit_dot_residual[k % LANES] += z * residual;
        }
        let (fit_sq, fit_dot_residual): (f64, f64) =
            (fit_sq.iter().sum(), fit_dot_residual.iter().sum());
        self.block.clear();
        for k in 0..m {
            for l in 0..m {
                let mut entry = loo[k] * loo[l] * fit_sq * inv_n;
                if k != l {
                    let others: f64 = (0..m).filter(|&j| j != k && j != l).map(|j| v[j]).product();
                    entry += others * fit_dot_residual * inv_n;
                }
                self.block.push(entry);
            }
        }
        self.loo = loo;
    }

    /// r + m, the size of the matrix.
    pub fn dim(&self) -> usize {
        self.diag.len() + self.loo.len()
    }

    /// The Hessian-vector product for a direction (a ∈ ℝʳ, b ∈ ℝᵐ), returned as one vector
    /// [α-part; v-part]. Cost O(r + m²).
    pub fn apply(&self, dir_alpha: &[f64], dir_v: &[f64]) -> Vec<f64> {
        let m = self.loo.len();
        let p_dot_b: f64 = self.loo.iter().zip(dir_v).map(|(p, b)| p * b).sum();
        let border_dot_a: f64 = self.border.iter().zip(dir_alpha).map(|(x, a)| x * a).sum();
        let mut out: Vec<f64> = (0..self.diag.len())
            .map(|i| self.diag[i] * dir_alpha[i] + self.border[i] * p_dot_b)
            .collect();
        for k in 0..m {
            let row: f64 = (0..m).map(|l| self.block[k * m + l] * dir_v[l]).sum();
            out.push(self.loo[k] * border_dot_a + row);
        }
        out
    }

    /// The dense (r + m) × (r + m) matrix, row-major, for tests and small problems.
    pub fn to_dense(&self) -> Vec<f64> {
        let (r, m) = (self.diag.len(), self.loo.len());
        let size = r + m;
        let mut dense = vec![0.0; size * size];
        for i in 0..r {
            dense[i * size + i] = self.diag[i];
            for k in 0..m {
                let entry = self.border[i] * self.loo[k];
                dense[i * size + r + k] = entry;
                dense[(r + k) * size + i] = entry;
            }
        }
        for k in 0..m {
            for l in 0..m {
                dense[(r + k) * size + r + l] = self.block[k * m + l];
            }
        }
        dense
    }

    /// The largest algebraic eigenvalue (the sharpness). `warm`, e.g. the previous step's
    /// value, only changes how fast the root is found, not the result.
    pub fn top_eigenvalue(&self, warm: Option<f64>) -> f64 {
        self.solve(|lo, hi| warm.filter(|w| *w > lo && *w < hi))
            .value
    }

    /// The top eigenvalue, searched for near where `previous` (the last call's result, at a
    /// nearby point) found it: at the same distance above the lower end of the bracket.
    ///
    /// Fast path for training, where the sharpness sits a hair above the largest diagonal
    /// entry (a pole of the secular equation, about 1e-7 relative away near a minimum) and
    /// drifts by more than that per step: the previous value then lies below the new bracket,
    /// and a search started from the bracket's top needs about 17 evaluations instead of 3.
    pub fn top_eigenvalue_tracked(&self, previous: Option<Tracked>) -> Tracked {
        self.solve(|lo, hi| {
            previous
                .map(|p| lo + p.gap)
                .filter(|guess| *guess > lo && *guess < hi)
        })
    }

    /// Safeguarded Newton on the secular equation, started from `guess(lo, hi)` when that
    /// gives a point inside the bracket, else from its top.
    fn solve(&self, guess: impl Fn(f64, f64) -> Option<f64>) -> Tracked {
        let top_diag = self.diag.iter().copied().fold(0.0, f64::max);
        let m = self.loo.len();
        if m == 0 {
            return Tracked::at(top_diag, top_diag); // D = 1: the Hessian is diag(a)
        }
        let (top_block, _) = top_eigenpair(m, &self.block);
        let lower = top_diag.max(top_block);
        let coupling = norm(&self.border) * norm(&self.loo);
        if coupling == 0.0 {
            return Tracked::at(lower, lower);
        }
        let (mut lo, mut hi) = (lower, lower + coupling);
        let mut lambda = guess(lo, hi).unwrap_or(hi);
        for _ in 0..200 {
            let (value, slope) = self.secular(lambda);
            if value == 0.0 {
                return Tracked::at(lambda, lower);
            }
            if value > 0.0 {
                lo = lambda;
            } else {
                hi = lambda;
            }
            let step = value / slope;
            if step.abs() <= 4.0 * f64::EPSILON * lambda.abs()
                && step.abs() <= 1e-4 * (lambda - top_diag)
            {
                // The Newton step is below rounding and small against the distance to the
                // pole: λ is the root to working precision. (Left
                // to the bracket test below, λ − step would round to λ = lo and be rejected for
                // a bisection step far away.)
                return Tracked::at(lambda, lower);
            }
            let newton = lambda - step;
            let next = if newton > lo && newton < hi && newton.is_finite() {
                newton
            } else {
                0.5 * (lo + hi)
            };
            // Newton converges quadratically once its step is small against the distance to
            // the pole at max aᵢ (φ is convex and decreasing there, with curvature on that
            // scale), so after a step of relative size ≤ 1e-9 that is also ≤ 1e-4 of that
            // distance the next iterate's error is about step²/(λ − a), ≤ 1e-13 relative:
            // return it without another O(r) evaluation. Close to the pole a small step proves
            // nothing, not even one below rounding: there φ ≈ c/(λ − a) and each Newton step
            // only about doubles λ − a. The bracket test still ends every search.
            let tolerance = 4.0 * f64::EPSILON * next.abs();
            let step_size = (next - lambda).abs();
            let far_from_pole = step_size <= 1e-4 * (next - top_diag);
            let newton_step_small = newton == next && step_size <= 1e-9 * next.abs();
            if (far_from_pole && (newton_step_small || step_size <= tolerance))
                || hi - lo <= tolerance
            {
                return Tracked::at(next, lower);
            }
            lambda = next;
        }
        Tracked::at(0.5 * (lo + hi), lower)
    }

    /// φ(λ) = λ_max(M − g(λ)ppᵀ) − λ and its derivative −g′(λ)(qᵀp)² − 1 (q the top
    /// eigenvector), for λ > max aᵢ.
    fn secular(&self, lambda: f64) -> (f64, f64) {
        // Fast path: four independent partial sums let the compiler use SIMD division.
        let (mut g, mut g_slope) = ([0.0; LANES], [0.0; LANES]);
        let (diag, border) = (
            self.diag.chunks_exact(LANES),
            self.border.chunks_exact(LANES),
        );
        let (diag_rest, border_rest) = (diag.remainder(), border.remainder());
        for (a, b) in diag.zip(border) {
            let inv: [f64; LANES] = std::array::from_fn(|lane| 1.0 / (a[lane] - lambda));
            let term: [f64; LANES] = std::array::from_fn(|lane| b[lane] * b[lane] * inv[lane]);
            for lane in 0..LANES {
                g[lane] += term[lane];
                g_slope[lane] += term[lane] * inv[lane];
            }
        }
        for (&a, &b) in diag_rest.iter().zip(border_rest) {
            let inv = 1.0 / (a - lambda);
            g[0] += b * b * inv;
            g_slope[0] += b * b * inv * inv;
        }
        let (g, g_slope): (f64, f64) = (g.iter().sum(), g_slope.iter().sum());
        let m = self.loo.len();
        let mut shifted = self.block.clone();
        for k in 0..m {
            for l in 0..m {
                shifted[k * m + l] -= g * self.loo[k] * self.loo[l];
            }
        }
        let (top, vector) = top_eigenpair(m, &shifted);
        let q_dot_p: f64 = vector.iter().zip(&self.loo).map(|(q, p)| q * p).sum();
        (top - lambda, -g_slope * q_dot_p * q_dot_p - 1.0)
    }
}

fn norm(values: &[f64]) -> f64 {
    values.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// The largest eigenvalue of a small symmetric m × m matrix (row-major) and a unit eigenvector.
pub(crate) fn top_eigenpair(m: usize, matrix: &[f64]) -> (f64, Vec<f64>) {
    match m {
        1 => (matrix[0], vec![1.0]),
        2 => top_eigenpair_2x2(matrix[0], matrix[1], matrix[3]),
        _ => top_eigenpair_jacobi(m, matrix),
    }
}

/// Closed form for [[a, c], [c, b]], written to avoid cancellation.
fn top_eigenpair_2x2(a: f64, c: f64, b: f64) -> (f64, Vec<f64>) {
    let half_gap = 0.5 * (a - b);
    let radius = half_gap.hypot(c);
    let top = 0.5 * (a + b) + radius;
    if radius == 0.0 {
        return (top, vec![1.0, 0.0]);
    }
    // Use the better-conditioned of the two rows of (A − top·I) to get the eigenvector.
    let (x, y) = if half_gap >= 0.0 {
        (half_gap + radius, c)
    } else {
        (c, radius - half_gap)
    };
    let length = x.hypot(y);
    (top, vec![x / length, y / length])
}

/// Cyclic Jacobi rotations until the off-diagonal part is negligible.
fn top_eigenpair_jacobi(m: usize, matrix: &[f64]) -> (f64, Vec<f64>) {
    let mut a = matrix.to_vec();
    let mut vectors = vec![0.0; m * m];
    for i in 0..m {
        vectors[i * m + i] = 1.0;
    }
    for _sweep in 0..60 {
        let off: f64 = (0..m)
            .flat_map(|i| (0..m).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * m + j] * a[i * m + j])
            .sum();
        let scale: f64 = a.iter().map(|x| x * x).sum();
        if off <= 1e-32 * scale || off == 0.0 {
            break;
        }
        for p in 0..m {
            for q in p + 1..m {
                let apq = a[p * m + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * m + q] - a[p * m + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..m {
                    let (akp, akq) = (a[k * m + p], a[k * m + q]);
                    a[k * m + p] = c * akp - s * akq;
                    a[k * m + q] = s * akp + c * akq;
                }
                for k in 0..m {
                    let (apk, aqk) = (a[p * m + k], a[q * m + k]);
                    a[p * m + k] = c * apk - s * aqk;
                    a[q * m + k] = s * apk + c * aqk;
                }
                for k in 0..m {
                    let (vkp, vkq) = (vectors[k * m + p], vectors[k * m + q]);
                    vectors[k * m + p] = c * vkp - s * vkq;
                    vectors[k * m + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let best = (0..m).fold(0, |best, i| {
        if a[i * m + i] > a[best * m + best] {
            i
        } else {
            best
        }
    });
    (
        a[best * m + best],
        (0..m).map(|k| vectors[k * m + best]).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::support::{dense_eigenvalues, relative};

    /// D = 2 with a = (10, 1, 0.5), b = (0.3, 0.3, 0.2), M = 2: the top eigenvalue lies about
    /// 1.1e-3 above the pole at 10.
    fn near_pole() -> Arrowhead {
        Arrowhead {
            diag: vec![10.0, 1.0, 0.5],
            border: vec![0.3, 0.3, 0.2],
            loo: vec![1.0],
            block: vec![2.0],
        }
    }

    #[test]
    fn a_start_a_hair_above_the_pole_still_finds_the_root() {
        let hessian = near_pole();
        let dense = dense_eigenvalues(&hessian.to_dense(), hessian.dim());
        let top = dense[dense.len() - 1];
        assert!(
            top > 10.001,
            "the example's root is not near the pole: {top}"
        );
        let cold = hessian.top_eigenvalue(None);
        assert!(relative(cold, top, 1e-300) < 1e-12, "cold {cold} vs {top}");
        // starts 1, 3, 5 and 8 ulps above the pole at 10 (where the first Newton step is below
        // rounding), then further up
        let ulps_up = |k: usize| (0..k).fold(10.0f64, |x, _| x.next_up());
        let starts = [1, 3, 5, 8]
            .map(ulps_up)
            .into_iter()
            .chain([1e-13, 1e-11, 1e-9, 1e-7].map(|above| 10.0 * (1.0 + above)));
        for start in starts {
            let warm = hessian.top_eigenvalue(Some(start));
            assert!(
                relative(warm, top, 1e-300) < 1e-12,
                "warm from {start:e}: {warm} vs {top}"
            );
            // the previous point's root sat that close to its pole
            let previous = Tracked {
                value: start,
                gap: start - 10.0,
            };
            let tracked = hessian.top_eigenvalue_tracked(Some(previous)).value;
            assert!(
                relative(tracked, top, 1e-300) < 1e-12,
                "tracked from a gap of {:e}: {tracked} vs {top}",
                start - 10.0
            );
        }
    }
}
