//! The `swerm` binary: parse arguments (`cli`), validate them into settings (`config::Command`),
//! run the subcommand (`cmd::run`), map errors to exit status 2.

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (its index in `mi_option_t`).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Freed memory stays committed and is reused instead of being given back to the kernel 10 ms
    // later: a forward pass frees and allocates buffers of megabytes per op, and a rerank builds
    // and drops big vectors, so every fresh allocation had been page faults and kernel page
    // zeroing (21-31% of a CPU prefill, ~20% of an RL-scale rerank in `perf`). The peak RSS is
    // unchanged (memory is reused, not added); MIMALLOC_PURGE_DELAY in the environment still wins.
    // SAFETY: sets an option's default value; no allocation is in flight on another thread.
    unsafe { libmimalloc_sys::mi_option_set_default(MI_OPTION_PURGE_DELAY, -1) };
    let cli = swerm::cli::Cli::parse();
    if let Some(n) = cli.threads.filter(|&n| n > 0) {
        // candle's CPU matmuls read RAYON_NUM_THREADS; set it before any thread exists.
        // SAFETY: single-threaded here, at the very start of the program.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", n.to_string()) };
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    }
    swerm::console::configure(cli.quiet, cli.strict);
    let command = swerm::config::Command::from_cli(cli.command);
    match command.and_then(swerm::cmd::run) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1), // a --fail-under gate
        Err(e) => {
            eprintln!("swerm: {e:#}");
            ExitCode::from(2)
        }
    }
}
