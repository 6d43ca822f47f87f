//! `swerm bench`: verifier throughput.

use anyhow::Result;

pub fn bench(cfg: crate::bench::BenchConfig) -> Result<()> {
    let rows = crate::bench::run(&cfg)?;
    out!("{}", crate::bench::table(&rows, cfg.peak_tflops));
    Ok(())
}
