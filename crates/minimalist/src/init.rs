//! Seeded initialization of θ = (u, v): random with a scale, exactly balanced, or explicit; u is
//! returned split into its row-space coordinates α = Wᵀu and the part outside W.
//!
//! # Limitations
//!
//! `Balanced` balances the part of u inside W only (the part outside never moves and never
//! enters the loss); with scale 0 it returns θ = 0, a saddle where GD never moves.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::config::{Init, MinimalConfig};
use crate::reduced::Reduced;

/// The starting point in reduced form.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    /// α = Wᵀu, length r.
    pub alpha: Vec<f64>,
    /// u − Wα, length d (constant during training).
    pub outside: Vec<f64>,
    /// v₁ … v_{D−1}.
    pub v: Vec<f64>,
}

/// Draws (or copies) the initial parameters for `config` on `reduced`. The config must have
/// passed [`MinimalConfig::validate`].
pub fn initial_params(reduced: &Reduced, config: &MinimalConfig) -> Start {
    let layers = config.depth - 1;
    match &config.init {
        Init::Explicit { u, v } => {
            let (alpha, outside) = reduced.split(u);
            Start {
                alpha,
                outside,
                v: v.clone(),
            }
        }
        Init::Random { scale } => {
            let u = random_u(reduced.d(), *scale, config.seed);
            let (alpha, outside) = reduced.split(&u);
            Start {
                alpha,
                outside,
                v: vec![*scale; layers],
            }
        }
        Init::Balanced { scale } => {
            let u = random_u(reduced.d(), *scale, config.seed);
            let (mut alpha, outside) = reduced.split(&u);
            let norm = alpha.iter().map(|a| a * a).sum::<f64>().sqrt();
            if norm > 0.0 {
                alpha.iter_mut().for_each(|a| *a *= scale.abs() / norm);
            } else {
                alpha[0] = scale.abs();
            }
            Start {
                alpha,
                outside,
                v: vec![*scale; layers],
            }
        }
    }
}

/// u ~ scale·N(0, I/d).
fn random_u(d: usize, scale: f64, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let std = scale / (d as f64).sqrt();
    (0..d)
        .map(|_| std * rng.sample::<f64, _>(StandardNormal))
        .collect()
}
