//! The GPU path, on tensors small enough for a software Vulkan driver: a few GD steps and one
//! exact HVP on burn's wgpu backend agree with the CPU backend (burn-flex), both in f32.
//! Compiled only with the cargo feature `wgpu`; on a machine without a GPU, Debian's
//! `mesa-vulkan-drivers` and `libvulkan1` (llvmpipe) run it, slowly (shader compilation takes
//! most of a minute).

use burn::backend::Wgpu;
use burn_backend::BackendTypes;
use burn_flex::{Flex, FlexDevice};

use crate::test_util::*;
use crate::train::{Row, TrainConfig, train_on};
use crate::{Arch, Loss, NetsError, Precision, Problem};

type WgpuDevice = <Wgpu as BackendTypes>::Device;

fn rows_of<B: burn_backend::Backend>(config: &TrainConfig, device: &B::Device) -> Vec<Row> {
    let data = random_data(12, [1, 1, 5], 3, 4);
    let mut rows = Vec::new();
    let mut observer = |row: &Row| -> Result<(), NetsError> {
        rows.push(row.clone());
        Ok(())
    };
    train_on::<B>(config, &data, None, &mut observer, device).unwrap();
    rows
}

#[test]
fn wgpu_training_steps_and_hvp_agree_with_the_cpu_backend() {
    let config = TrainConfig {
        arch: Arch::FcTanh,
        depth: 2,
        width: 6,
        lr: 0.1,
        steps: 5,
        sharpness_every: 5,
        chunk_size: 5,
        precision: Precision::F32,
        ..TrainConfig::default()
    };
    let cpu = rows_of::<Flex>(&config, &FlexDevice);
    let gpu = rows_of::<Wgpu>(&config, &WgpuDevice::default());
    assert_eq!(cpu.len(), gpu.len());
    for (c, g) in cpu.iter().zip(&gpu) {
        assert!(
            (c.loss - g.loss).abs() <= 1e-4 * c.loss.abs().max(1.0),
            "step {}: cpu loss {} vs wgpu {}",
            c.step,
            c.loss,
            g.loss
        );
    }

    let spec = config.net_spec([1, 1, 5], 3);
    let data = random_data(12, [1, 1, 5], 3, 4);
    let theta = spec.init(1.0, 7);
    let direction = random_unit(spec.num_params(), 8);
    let on_cpu =
        Problem::<Flex>::new(&spec, Loss::Mse, &data, 5, Precision::F32, &FlexDevice).unwrap();
    let device = WgpuDevice::default();
    let on_gpu = Problem::<Wgpu>::new(&spec, Loss::Mse, &data, 5, Precision::F32, &device).unwrap();
    let hvp_cpu = on_cpu
        .download_params(&on_cpu.hvp(
            &on_cpu.upload_params(&theta).unwrap(),
            &on_cpu.upload_flat(&direction).unwrap(),
        ))
        .unwrap()
        .concat();
    let hvp_gpu = on_gpu
        .download_params(&on_gpu.hvp(
            &on_gpu.upload_params(&theta).unwrap(),
            &on_gpu.upload_flat(&direction).unwrap(),
        ))
        .unwrap()
        .concat();
    let error = relative_error(&hvp_gpu, &hvp_cpu);
    assert!(
        error < 1e-4,
        "HVP: wgpu against cpu, relative error {error:e}"
    );
}
