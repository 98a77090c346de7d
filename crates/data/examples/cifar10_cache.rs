//! Prepares the CIFAR-10 cache without the `sharplab` binary (which links burn) and times a
//! prepare and a load: `cargo run --release -p sharplab-data --example cifar10_cache --
//! [DATA_DIR] [SOURCE]`. DATA_DIR defaults to `datasets`, SOURCE to the shared tarball.

use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let data_dir = PathBuf::from(args.next().unwrap_or_else(|| "datasets".into()));
    let source = args.next().map(PathBuf::from);

    let started = Instant::now();
    let summary = sharplab_data::prepare_cifar10(source.as_deref(), &data_dir)?;
    println!(
        "prepare: {:.2} s, {summary:?}",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let dataset = sharplab_data::load(sharplab_data::DatasetName::Cifar10, &data_dir)?;
    println!(
        "load: {:.2} s, {} train, {} test",
        started.elapsed().as_secs_f64(),
        dataset.train.len(),
        dataset.test.len()
    );

    let started = Instant::now();
    let info = sharplab_data::info(&dataset);
    println!(
        "info: {:.2} s, {}",
        started.elapsed().as_secs_f64(),
        serde_json::to_string(&info)?
    );
    Ok(())
}
