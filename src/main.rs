//! The `swerm` binary: parse arguments (`cli`), validate them into settings (`config::Command`),
//! run the subcommand (`cmd::run`), map errors to exit status 2.

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    swerm::memory::set_defaults();
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
