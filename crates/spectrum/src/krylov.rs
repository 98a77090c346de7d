//! The Lanczos basis Q_m and tridiagonal T_m, grown one product at a time.
//!
//! Notation as in [`crate::lanczos()`]: q_j are the orthonormal basis vectors (length n),
//! α_j and β_j the diagonal and off-diagonal of T_m. This module keeps the basis orthonormal
//! (full reorthogonalisation), draws restart vectors, and forms the Ritz vectors y_i = Q_m s_i.
//!
//! # Limitations
//!
//! Every basis vector is kept: m·n floats of memory, and O(n·m) work per product for the
//! reorthogonalisation.

use rand_chacha::ChaCha8Rng;
use tracing::debug;

use crate::error::SpectrumError;
use crate::lanczos::LanczosResult;
use crate::operator::CountedOperator;
use crate::tridiagonal::RitzPairs;
use crate::vector::{axpy, dot, norm, normalize, random_vector};

/// Attempts at drawing a restart vector not (numerically) in the span of the basis.
const RESTART_ATTEMPTS: usize = 3;

/// The Lanczos basis and the tridiagonal matrix T_m built so far.
pub(crate) struct Krylov {
    /// Orthonormal q₁ … q_m, each of length n.
    pub(crate) basis: Vec<Vec<f64>>,
    /// α₁ … α_m (after the first `extend`, as many as basis vectors).
    pub(crate) alpha: Vec<f64>,
    /// β₁ … β_{m−1}, off-diagonal of T_m (0 where a restart began).
    pub(crate) beta: Vec<f64>,
    /// Largest |α_j| and β_j seen: the scale for the invariant-subspace test.
    pub(crate) scale: f64,
}

impl Krylov {
    /// A basis holding only the unit start vector q₁; T_0 is empty.
    pub(crate) fn new(start: Vec<f64>) -> Self {
        Self {
            basis: vec![start],
            alpha: vec![],
            beta: vec![],
            scale: 0.0,
        }
    }

    /// Appends q_{m+1} = w/β_m, with β_m = ‖w‖ > 0 from [`Self::extend`].
    pub(crate) fn append(&mut self, mut next: Vec<f64>, beta_m: f64) {
        next.iter_mut().for_each(|x| *x /= beta_m);
        self.beta.push(beta_m);
        self.basis.push(next);
    }

    /// After an invariant subspace: appends a random unit vector orthogonal to the basis,
    /// with β_m = 0 in T. Returns false if none was found.
    pub(crate) fn append_restart(&mut self, rng: &mut ChaCha8Rng) -> bool {
        match self.restart_vector(rng) {
            Some(vector) => {
                self.beta.push(0.0);
                self.basis.push(vector);
                true
            }
            None => false,
        }
    }

    /// One product: w = Hq_m, α_m = ⟨q_m, w⟩, then w orthogonalised against the basis.
    /// Returns w (length n, not normalised) and β_m = ‖w‖.
    pub(crate) fn extend(
        &mut self,
        op: &mut CountedOperator,
    ) -> Result<(Vec<f64>, f64), SpectrumError> {
        let last = &self.basis[self.basis.len() - 1];
        let mut next = vec![0.0; op.dim()];
        op.apply(last, &mut next)?;
        let alpha_m = dot(last, &next);
        self.alpha.push(alpha_m);

        self.orthogonalise(&mut next);
        let beta_m = norm(&next);
        self.scale = self.scale.max(alpha_m.abs()).max(beta_m);
        Ok((next, beta_m))
    }

    /// w ← w − Q_m Q_mᵀ w, by two passes of modified Gram–Schmidt.
    fn orthogonalise(&self, vector: &mut [f64]) {
        for _pass in 0..2 {
            for q in &self.basis {
                axpy(-dot(q, vector), q, vector);
            }
        }
    }

    /// A random unit vector orthogonal to the basis, or `None` if every draw lies (to
    /// rounding) in its span.
    fn restart_vector(&self, rng: &mut ChaCha8Rng) -> Option<Vec<f64>> {
        let dim = self.basis[0].len();
        (0..RESTART_ATTEMPTS).find_map(|_| {
            let mut vector = random_vector(rng, dim);
            let before = norm(&vector);
            self.orthogonalise(&mut vector);
            (normalize(&mut vector) > 1e-8 * before).then_some(vector)
        })
    }

    /// Ritz vectors y_i = Q_m s_i for the chosen pairs, packaged as the result.
    pub(crate) fn finish(
        &self,
        ritz: RitzPairs,
        residuals: Vec<f64>,
        products: usize,
        converged: bool,
    ) -> LanczosResult {
        let dim = self.basis[0].len();
        let vectors = ritz
            .vectors
            .iter()
            .map(|s| {
                let mut ritz_vector = vec![0.0; dim];
                for (q, s_j) in self.basis.iter().zip(s) {
                    axpy(*s_j, q, &mut ritz_vector);
                }
                ritz_vector
            })
            .collect();
        debug!(products, converged, values = ?ritz.values, "lanczos finished");
        LanczosResult {
            values: ritz.values,
            vectors,
            residuals,
            products,
            converged,
        }
    }
}
