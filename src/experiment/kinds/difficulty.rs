//! Runs of kind `difficulty`: dataset difficulty Q, σ₁²/N and the predicted sharpness Ŝ_D for
//! D = 2…5 of one subset; no training.
//!
//! Parameters: the data ones of the parent module, where `classes` must name two classes.
//!
//! # Limitations
//!
//! Writes no trajectory; the report plots these runs as trends only.

use std::collections::BTreeMap;

use sharplab_minimalist::theory;

use super::{KindContext, KindOutput, reduced_pm1, subset};
use crate::experiment::params::ParamReader;
use crate::experiment::spec::RunSpec;
use crate::experiment::store::RunStatus;

pub fn execute(run: &RunSpec, ctx: &KindContext) -> anyhow::Result<KindOutput> {
    let p = ParamReader::new(run);
    let n = p.usize("n")?;
    let reduced = reduced_pm1(&subset(&p, ctx.data_dir, n)?)?;
    let difficulty = theory::difficulty(&reduced);
    let mut metrics = BTreeMap::from([
        ("Q".to_string(), difficulty.q),
        ("sigma1_sq_over_n".to_string(), difficulty.sigma1_sq_over_n),
        ("rank".to_string(), difficulty.rank as f64),
        ("dropped".to_string(), difficulty.dropped as f64),
    ]);
    for depth in 2..=5 {
        metrics.insert(
            format!("predicted_sharpness_D{depth}"),
            theory::predicted_sharpness(difficulty.sigma1_sq_over_n, difficulty.q, depth),
        );
    }
    Ok(KindOutput {
        status: RunStatus::Done,
        metrics,
        has_trajectory: false,
    })
}
