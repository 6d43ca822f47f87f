//! swerm: best-of-N reranking of SWE-bench agent runs.
//!
//! The data path runs one way (see `cmd`, one file per subcommand); no module imports from a later stage:
//! inputs (`input`) -> candidates (`Dataset`) -> prompts (`prompt`) -> tokens -> packed
//! batches and the forward pass (`model`) -> scores and the score store (`score`, ending in
//! `ScoreTable`) -> calibration (`calibrate`) -> selection (`select`) -> metrics (`metrics`) -> outputs (`report`).
//! Utilities any stage may use: `grid` (the instance x run layout of every stage's data), `outdir` (the locked output directory, atomic writes), `rng`,
//! `text`, `loc`, `progress`, and `checkpoint` (a verifier's files, local or from the hub: the
//! prompt stage reads its tokenizer, the model stage its weights). `cli` and `config` turn the command line into validated settings.
//!
//! Visibility: the library's public API is what the binary (`main.rs`: `cli::Cli`,
//! `config::Command`, `cmd::run`) and the fuzz targets (`fuzz/`: the input readers, the
//! config and template parsers, the score store) use; every other item is `pub(crate)`, so the
//! compiler reports what nothing uses.

#[macro_use]
pub mod console;
pub mod bench;
pub(crate) mod calibrate;
pub mod checkpoint;
pub mod cli;
pub mod cmd;
pub mod config;
mod grid;
pub mod hash;
pub mod hub;
pub mod input;
pub mod interrupt;
pub mod loc;
pub mod memory;
pub mod metrics;
pub mod model;
pub mod outdir;
pub mod patch;
pub mod prob;
pub mod progress;
pub mod prompt;
pub mod report;
pub mod rng;
pub mod score;
pub mod select;
pub mod text;
