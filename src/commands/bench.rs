//! `sharplab bench`.

use clap::Args;

use super::Context;

#[derive(Debug, Args)]
pub struct BenchArgs {}

pub fn run(_ctx: &Context, _args: &BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("bench: not implemented yet")
}
