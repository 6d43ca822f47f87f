//! `swerm completions SHELL` and `swerm man`: shell completions and the manual page, generated
//! from the clap definitions the parser uses (so neither can drift from the command line). The
//! one command that reads `cli` itself: every other one gets its settings from `config`.

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::Cli;

pub(super) fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "swerm", &mut out);
    crate::console::print(&String::from_utf8_lossy(&out));
    Ok(())
}

/// `swerm.1` on stdout; with `--dir`, a page per subcommand too (`swerm-rerank.1`, ... as git
/// does), written into DIR.
pub(super) fn man(dir: Option<&std::path::Path>) -> Result<()> {
    match dir {
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            crate::console::print(&String::from_utf8_lossy(&out));
        }
        Some(d) => {
            std::fs::create_dir_all(d)?;
            clap_mangen::generate_to(Cli::command(), d)?;
            let mut pages: Vec<String> = std::fs::read_dir(d)?
                .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
                .collect();
            pages.sort();
            crate::console::println(format!("wrote {} to {}", crate::text::list(&pages), d.display()));
        }
    }
    Ok(())
}
