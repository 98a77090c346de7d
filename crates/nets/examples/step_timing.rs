//! Times one full-batch GD step (loss, gradient, update) and one exact Hessian-vector product
//! of fc-tanh 3072-200-200-10 with MSE on N random CIFAR-shaped inputs, the numbers the
//! PyTorch comparison needs: `cargo run --release -p sharplab-nets --example step_timing --
//! [N] [f32|f64] [repeats]`.

use std::time::Instant;

use burn_flex::{Flex, FlexDevice};
use sharplab_nets::{Arch, Dataset, Loss, NetSpec, Precision, Problem};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(1000), |s| s.parse())?;
    let precision: Precision = args.next().map_or(Ok(Precision::F32), |s| s.parse())?;
    let repeats: usize = args.next().map_or(Ok(5), |s| s.parse())?;

    let spec = NetSpec {
        arch: Arch::FcTanh,
        input_shape: [3, 32, 32],
        outputs: 10,
        depth: 2,
        width: 200,
        bias: true,
    };
    // deterministic pseudo-random inputs in ±1 and one-hot targets
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let x: Vec<f64> = (0..n * 3072).map(|_| next()).collect();
    let mut y = vec![0.0; n * 10];
    for row in 0..n {
        y[row * 10 + row % 10] = 1.0;
    }
    let data = Dataset::new(x, y, [3, 32, 32], 10)?;
    let problem = Problem::<Flex>::new(&spec, Loss::Mse, &data, 1000, precision, &FlexDevice)?;
    let mut params = problem.upload_params(&spec.init(1.0, 0))?;
    let direction = problem.upload_params(&spec.init(1.0, 1))?;

    let mut step_times = Vec::new();
    let mut hvp_times = Vec::new();
    for _ in 0..repeats {
        let started = Instant::now();
        let (evaluation, gradient) = problem.loss_and_gradient(&params)?;
        params = params
            .into_iter()
            .zip(gradient)
            .map(|(p, g)| {
                use burn_backend::ops::FloatTensorOps;
                Flex::float_sub(p, Flex::float_mul_scalar(g, 0.01.into()))
            })
            .collect();
        step_times.push(started.elapsed().as_secs_f64());
        let _ = evaluation;

        let started = Instant::now();
        let product = problem.hvp(&params, &direction);
        let _ = problem.download_params(&product)?;
        hvp_times.push(started.elapsed().as_secs_f64());
    }
    let median = |times: &mut Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    println!(
        "fc-tanh 3072-200-200-10, N = {n}, {}: GD step {:.4} s, HVP {:.4} s (medians of {repeats})",
        precision.name(),
        median(&mut step_times),
        median(&mut hvp_times)
    );
    Ok(())
}
