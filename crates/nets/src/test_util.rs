//! Helpers shared by the unit tests: small random data sets, flat-vector plumbing, and a dense
//! symmetric eigen-solver (faer) as the independent reference.

use burn_flex::{Flex, FlexDevice};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::problem::{DeviceParams, Problem};
use crate::{Arch, Dataset, Loss, NetSpec, Precision};

pub type Cpu = Flex;

/// N random examples of `shape` (uniform ±1) with one-hot targets over `k` classes (or ±1
/// targets when k = 1).
pub fn random_data(n: usize, shape: [usize; 3], k: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d: usize = shape.iter().product();
    let x = (0..n * d).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut y = vec![0.0; n * k];
    for row in 0..n {
        if k == 1 {
            y[row] = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
        } else {
            y[row * k + rng.random_range(0..k)] = 1.0;
        }
    }
    Dataset::new(x, y, shape, k).unwrap()
}

pub fn spec(arch: Arch, shape: [usize; 3], k: usize, depth: usize, width: usize) -> NetSpec {
    NetSpec {
        arch,
        input_shape: shape,
        outputs: k,
        depth,
        width,
        bias: true,
    }
}

/// An f64 problem on the CPU with chunks of `chunk` examples.
pub fn problem(spec: &NetSpec, loss: Loss, data: &Dataset, chunk: usize) -> Problem<Cpu> {
    Problem::<Cpu>::new(spec, loss, data, chunk, Precision::F64, &FlexDevice).unwrap()
}

/// Concatenates device tensors into one host vector.
pub fn flatten(problem: &Problem<Cpu>, tensors: &DeviceParams<Cpu>) -> Vec<f64> {
    problem.download_params(tensors).unwrap().concat()
}

/// A random unit vector of length `p`.
pub fn random_unit(p: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let v: Vec<f64> = (0..p).map(|_| rng.random_range(-1.0..1.0)).collect();
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

/// ‖a − b‖ / ‖b‖.
pub fn relative_error(a: &[f64], b: &[f64]) -> f64 {
    let diff = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt();
    let norm = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    diff / norm
}

/// Eigenvalues of a dense symmetric matrix (row-major p×p), descending.
pub fn dense_eigenvalues(matrix: &[f64], p: usize) -> Vec<f64> {
    let mat = faer::Mat::from_fn(p, p, |i, j| matrix[i * p + j]);
    let mut values = mat.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
    values.reverse();
    values
}
