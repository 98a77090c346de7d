//! The machine's limit: the rate of one large square f32 matrix product C = A·B on the
//! benchmark's backend (burn-flex on the CPU), 2·n³ FLOPs for n × n operands. The best of the
//! repeats is the peak the GD step is compared against.
//!
//! # Limitations
//!
//! One shape only (default n = 2,048, 17 GFLOP); a BLAS may reach a higher rate at other
//! shapes, and the PyTorch reference measures its own (MKL) rate for comparison.

use burn_backend::Backend;
use sharplab_nets::Precision;
use sharplab_nets::backend::upload;

use super::timing::{Measurement, spread, timed};

/// Times `repeats` products of two n × n matrices (after one untimed product).
pub fn run<B: Backend>(
    size: usize,
    repeats: usize,
    device: &B::Device,
) -> anyhow::Result<Measurement> {
    // deterministic entries in [−1, 1); the rate does not depend on them
    let entries = |offset: usize| -> Vec<f64> {
        (0..size * size)
            .map(|i| (((i + offset) * 7919) % 2003) as f64 / 1001.5 - 1.0)
            .collect()
    };
    let a = upload::<B>(&entries(0), &[size, size], Precision::F32, device);
    let b = upload::<B>(&entries(1), &[size, size], Precision::F32, device);
    let product = || -> anyhow::Result<()> {
        let _ = B::float_matmul(a.clone(), b.clone()); // [n, n]
        B::sync(device).map_err(|err| anyhow::anyhow!("the device failed: {err:?}"))
    };

    product()?; // untimed
    let mut seconds = Vec::new();
    for _ in 0..repeats {
        let (result, elapsed) = timed(product);
        result?;
        seconds.push(elapsed);
    }
    let flops = 2.0 * (size as f64).powi(3);
    let (_, fastest, _) = spread(&seconds);
    Ok(Measurement::new("matmul", seconds)
        .fact("size", size)
        .fact("flops", flops)
        .fact("peak_flops_per_second", flops / fastest)
        .note(format!(
            "f32 {size}×{size}·{size}×{size}: best {:.1} GFLOP/s",
            flops / fastest / 1e9
        )))
}
