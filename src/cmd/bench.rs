//! `swerm bench`: verifier throughput.

use anyhow::Result;

pub(super) fn bench(cfg: crate::bench::BenchConfig) -> Result<()> {
    let (rows, peak) = crate::bench::run(&cfg)?;
    out!("{}", crate::bench::table(&rows, peak));
    Ok(())
}
