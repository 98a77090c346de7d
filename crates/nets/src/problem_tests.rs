//! Tests of the loss, gradient and Hessian-vector products against independent references:
//! central differences, a dense Hessian and its eigendecomposition (faer), the minimalist
//! model's closed-form Hessian, and burn's own modules.

use burn::tensor::{Device, Tensor, TensorData};

use crate::model::Network;
use crate::sharpness::{Estimator, SharpnessOptions, estimate_sharpness};
use crate::test_util::*;
use crate::{Arch, Loss, Precision};

/// Exact HVP vs the central difference of exact gradients, ε = 1e-4 (f64: error ~1e-10).
fn check_hvp_against_finite_differences(arch: Arch, shape: [usize; 3], loss: Loss) {
    let spec = spec(arch, shape, 3, 2, 6);
    let data = random_data(9, shape, 3, 1);
    // chunks of 4 so accumulation over chunks is exercised
    let problem = problem(&spec, loss, &data, 4);
    let params = problem.upload_params(&spec.init(1.0, 2)).unwrap();
    let v = random_unit(spec.num_params(), 3);
    let direction = problem.upload_flat(&v).unwrap();

    let exact = flatten(&problem, &problem.hvp(&params, &direction));
    let reference = flatten(
        &problem,
        &problem
            .hvp_finite_difference(&params, &direction, 1e-4)
            .unwrap(),
    );
    let error = relative_error(&exact, &reference);
    assert!(error < 1e-7, "{arch} {loss:?}: relative error {error:e}");
}

#[test]
fn exact_hvp_of_fc_tanh_matches_central_differences() {
    check_hvp_against_finite_differences(Arch::FcTanh, [1, 1, 5], Loss::Mse);
    check_hvp_against_finite_differences(Arch::FcTanh, [1, 1, 5], Loss::CrossEntropy);
}

#[test]
fn exact_hvp_of_fc_elu_matches_central_differences() {
    check_hvp_against_finite_differences(Arch::FcElu, [1, 1, 5], Loss::Mse);
}

#[test]
fn exact_hvp_of_cnn_relu_matches_central_differences() {
    check_hvp_against_finite_differences(Arch::CnnRelu, [2, 4, 4], Loss::Mse);
}

#[test]
fn exact_hvp_of_cnn_tanh_matches_central_differences() {
    check_hvp_against_finite_differences(Arch::CnnTanh, [1, 4, 8], Loss::CrossEntropy);
}

/// The dense Hessian, column j = H e_j from exact HVPs.
fn dense_hessian(
    problem: &crate::Problem<Cpu>,
    params: &crate::problem::DeviceParams<Cpu>,
) -> Vec<f64> {
    let p = problem.spec().num_params();
    let mut hessian = vec![0.0; p * p];
    for j in 0..p {
        let mut unit = vec![0.0; p];
        unit[j] = 1.0;
        let column = flatten(
            problem,
            &problem.hvp(params, &problem.upload_flat(&unit).unwrap()),
        );
        for i in 0..p {
            hessian[i * p + j] = column[i];
        }
    }
    hessian
}

#[test]
fn lanczos_and_power_match_dense_hessian_of_small_mlp() {
    // 5-8-8-3 tanh MLP: 5·8+8 + 8·8+8 + 8·3+3 = 147 parameters
    let spec = spec(Arch::FcTanh, [1, 1, 5], 3, 2, 8);
    let data = random_data(12, [1, 1, 5], 3, 4);
    let problem = problem(&spec, Loss::Mse, &data, 5);
    let params = problem.upload_params(&spec.init(2.0, 5)).unwrap();
    let p = spec.num_params();
    let hessian = dense_hessian(&problem, &params);

    // cross-check the dense Hessian against central differences of gradients, column by column
    let (_, g0) = problem.loss_and_gradient(&params).unwrap();
    let theta = flatten(&problem, &params);
    let scale = flatten(&problem, &g0)
        .iter()
        .map(|g| g.abs())
        .fold(0.0, f64::max)
        .max(1.0);
    for j in (0..p).step_by(7) {
        let gradient_at = |shift: f64| {
            let mut shifted = theta.clone();
            shifted[j] += shift;
            let (_, g) = problem
                .loss_and_gradient(&problem.upload_flat(&shifted).unwrap())
                .unwrap();
            flatten(&problem, &g)
        };
        let (plus, minus) = (gradient_at(1e-5), gradient_at(-1e-5));
        for i in 0..p {
            let fd = (plus[i] - minus[i]) / 2e-5;
            assert!(
                (fd - hessian[i * p + j]).abs() < 1e-7 * scale,
                "H[{i}][{j}]"
            );
        }
    }
    // symmetric to rounding
    for i in 0..p {
        for j in 0..i {
            assert!((hessian[i * p + j] - hessian[j * p + i]).abs() < 1e-12);
        }
    }

    let dense = dense_eigenvalues(&hessian, p);
    let lanczos = estimate_sharpness(
        &problem,
        &params,
        &SharpnessOptions {
            estimator: Estimator::Lanczos,
            top_k: 3,
            tol: 1e-10,
            max_products: p,
            seed: 1,
        },
        None,
    )
    .unwrap();
    for (i, (found, exact)) in lanczos.values.iter().zip(&dense).take(3).enumerate() {
        assert!(
            (found - exact).abs() < 1e-6,
            "λ_{i}: lanczos {found} vs dense {exact}"
        );
    }
    let power = estimate_sharpness(
        &problem,
        &params,
        &SharpnessOptions {
            estimator: Estimator::Power,
            top_k: 1,
            tol: 1e-9,
            max_products: 20_000,
            seed: 1,
        },
        None,
    )
    .unwrap();
    assert!(
        (power.sharpness() - dense[0]).abs() < 1e-6,
        "power {} vs {}",
        power.sharpness(),
        dense[0]
    );
}

/// The minimalist model's Hessian from THEORY.md's formulas (P = ∏v, z = Xu, r = Pz − y):
/// uu: (P²/N)XᵀX; u vᵢ: (P₋ᵢ/N)(P·Xᵀz + Xᵀr); vᵢvᵢ: P₋ᵢ²zᵀz/N;
/// vᵢvⱼ: (P₋ᵢP₋ⱼ zᵀz + P₋ᵢⱼ zᵀr)/N.
fn minimalist_hessian(x: &[f64], y: &[f64], u: &[f64], v: &[f64]) -> Vec<f64> {
    let (n, d, m) = (y.len(), u.len(), v.len());
    let prod_except =
        |skip: &[usize]| -> f64 { (0..m).filter(|i| !skip.contains(i)).map(|i| v[i]).product() };
    let big_p = prod_except(&[]);
    let z: Vec<f64> = (0..n)
        .map(|i| (0..d).map(|a| x[i * d + a] * u[a]).sum())
        .collect();
    let r: Vec<f64> = (0..n).map(|i| big_p * z[i] - y[i]).collect();
    let xt = |w: &[f64]| -> Vec<f64> {
        (0..d)
            .map(|a| (0..n).map(|i| x[i * d + a] * w[i]).sum())
            .collect()
    };
    let (xtz, xtr) = (xt(&z), xt(&r));
    let ztz: f64 = z.iter().map(|t| t * t).sum();
    let ztr: f64 = z.iter().zip(&r).map(|(a, b)| a * b).sum();
    let nf = n as f64;

    let p = d + m;
    let mut h = vec![0.0; p * p];
    for a in 0..d {
        for b in 0..d {
            let xtx: f64 = (0..n).map(|i| x[i * d + a] * x[i * d + b]).sum();
            h[a * p + b] = big_p * big_p * xtx / nf;
        }
        for i in 0..m {
            let value = prod_except(&[i]) * (big_p * xtz[a] + xtr[a]) / nf;
            h[a * p + d + i] = value;
            h[(d + i) * p + a] = value;
        }
    }
    for i in 0..m {
        for j in 0..m {
            h[(d + i) * p + d + j] = if i == j {
                prod_except(&[i]).powi(2) * ztz / nf
            } else {
                (prod_except(&[i]) * prod_except(&[j]) * ztz + prod_except(&[i, j]) * ztr) / nf
            };
        }
    }
    h
}

#[test]
fn minimalist_sharpness_matches_closed_form_hessian_at_init_and_after_training() {
    let (d, depth) = (7, 3);
    let spec = spec(Arch::Minimalist, [1, 1, d], 1, depth, 0);
    let data = random_data(25, [1, 1, d], 1, 8);
    let problem = problem(&spec, Loss::Mse, &data, 10);
    let mut theta = spec.init(1.0, 9);
    theta[1] = vec![1.3, 0.8];
    let lr = 0.05;
    let options = SharpnessOptions {
        tol: 1e-10,
        max_products: 50,
        ..SharpnessOptions::default()
    };

    for round in 0..2 {
        let params = problem.upload_params(&theta).unwrap();
        let measured = estimate_sharpness(&problem, &params, &options, None)
            .unwrap()
            .sharpness();
        let closed = dense_eigenvalues(
            &minimalist_hessian(&data.x, &data.y, &theta[0], &theta[1]),
            d + depth - 1,
        )[0];
        assert!(
            (measured - closed).abs() < 1e-4 * closed.abs(),
            "round {round}: {measured} vs {closed}"
        );

        // 200 GD steps with the burn gradient before the second check
        let mut params = params;
        for _ in 0..200 {
            let (_, g) = problem.loss_and_gradient(&params).unwrap();
            let flat: Vec<f64> = flatten(&problem, &params)
                .iter()
                .zip(flatten(&problem, &g))
                .map(|(t, g)| t - lr * g)
                .collect();
            params = problem.upload_flat(&flat).unwrap();
        }
        theta = problem.download_params(&params).unwrap();
    }
}

/// MSE through burn's own modules and high-level autodiff; returns (loss, flat gradient).
fn module_loss_and_gradient(
    spec: &crate::NetSpec,
    params: &[Vec<f64>],
    data: &crate::Dataset,
) -> (f64, Vec<f64>, Vec<Vec<usize>>) {
    let device = Device::flex().autodiff();
    let network = Network::from_params(spec, params, Precision::F64, &device).unwrap();
    let n = data.len();
    let f64_on_device = (&device, burn::tensor::DType::F64);
    let x = Tensor::<2>::from_data(
        TensorData::new(data.x.clone(), [n, data.input_dim()]),
        f64_on_device,
    );
    let y = Tensor::<2>::from_data(
        TensorData::new(data.y.clone(), [n, data.outputs]),
        f64_on_device,
    );
    let residual = network.forward(x) - y;
    let loss = residual
        .clone()
        .mul(residual)
        .sum()
        .mul_scalar(0.5 / n as f64);
    let value = loss.clone().into_data().try_into_vec_as::<f64>().unwrap()[0];
    let grads = loss.backward();

    struct Grads<'a> {
        grads: &'a burn::tensor::Gradients,
        out: Vec<f64>,
    }
    impl burn::module::ModuleVisitor for Grads<'_> {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            let g = param
                .val()
                .grad(self.grads)
                .expect("every parameter gets a gradient");
            self.out
                .extend(g.into_data().try_into_vec_as::<f64>().unwrap());
        }
    }
    let mut visitor = Grads {
        grads: &grads,
        out: Vec::new(),
    };
    network.visit(&mut visitor);
    (value, visitor.out, network.param_shapes())
}

fn check_module_agrees_with_primitive(arch: Arch, shape: [usize; 3], k: usize) {
    let spec = spec(arch, shape, k, 2, 5);
    let data = random_data(6, shape, k, 11);
    let params = spec.init(1.0, 12);
    let (module_loss, module_gradient, shapes) = module_loss_and_gradient(&spec, &params, &data);

    let expected: Vec<_> = spec.params().into_iter().map(|p| p.shape).collect();
    assert_eq!(shapes, expected, "{arch}: Module::visit order and shapes");
    let problem = problem(&spec, Loss::Mse, &data, 4);
    let device_params = problem.upload_params(&params).unwrap();
    let (evaluation, gradient) = problem.loss_and_gradient(&device_params).unwrap();
    assert!(
        (evaluation.loss - module_loss).abs() < 1e-12 * module_loss.max(1.0),
        "{arch} loss: primitive {} against module {module_loss}",
        evaluation.loss
    );
    let error = relative_error(&flatten(&problem, &gradient), &module_gradient);
    assert!(error < 1e-10, "{arch} gradient: {error:e}");
}

#[test]
fn primitive_loss_and_gradient_match_burn_modules() {
    check_module_agrees_with_primitive(Arch::FcTanh, [1, 1, 4], 3);
    check_module_agrees_with_primitive(Arch::FcElu, [1, 1, 4], 2);
    check_module_agrees_with_primitive(Arch::CnnRelu, [2, 4, 4], 3);
    check_module_agrees_with_primitive(Arch::CnnTanh, [1, 8, 4], 2);
    check_module_agrees_with_primitive(Arch::Minimalist, [1, 1, 6], 1);
}

#[test]
fn accuracy_counts_matching_argmax() {
    // a linear model with W = I and no bias predicts the largest input coordinate
    let mut spec = spec(Arch::FcLinear, [1, 1, 3], 3, 0, 0);
    spec.bias = false;
    let x = vec![1.0, 0.0, 0.0, 0.0, 2.0, 1.0, 0.0, 0.0, 5.0, 3.0, 1.0, 0.0];
    let y = vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    let data = crate::Dataset::new(x, y, [1, 1, 3], 3).unwrap();
    let problem = problem(&spec, Loss::Mse, &data, 2);
    let identity = vec![vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]];
    let evaluation = problem
        .evaluate(&problem.upload_params(&identity).unwrap())
        .unwrap();
    // predictions 0, 1, 2, 0 against labels 0, 1, 1, 2
    assert_eq!(evaluation.accuracy, 0.5);
    // ½‖x − y‖² per row: 0, ½(1 + 1), ½(1 + 25), ½(9 + 1 + 1)
    let by_hand = (0.0 + 1.0 + 13.0 + 5.5) / 4.0;
    assert!((evaluation.loss - by_hand).abs() < 1e-12);
}
