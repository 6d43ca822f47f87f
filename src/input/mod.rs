//! Inputs: command-line paths -> runs (`layout`: the directory layouts agents write;
//! `run_input`, `run_names`, `run_files`) -> records of each format (`read`, `formats/`,
//! `fields`, `record`) -> a `Dataset`, the instance x run grid of candidates (patch keys,
//! embedded label, where to find the record again); trajectories and dropped patches read again
//! on demand (`reread`, `trajectory`); issue statements (`issues`); labels from harness reports
//! and logs (`labels`, `harness_logs`).

mod dataset;
pub(crate) mod fields;
pub mod formats;
mod harness_logs;
pub(crate) mod issues;
pub mod labels;
pub(crate) mod layout;
mod read;
pub(crate) mod record;
pub(crate) mod reread;
mod run_files;
mod run_input;
mod run_names;
pub(crate) mod stream;
pub(crate) mod trajectory;

pub use dataset::{Candidate, Dataset, load, name_order, read_instance_list};
pub use formats::Format;
pub(crate) use layout::{InputSpec, expand_inputs};
pub use read::LoadOptions;
pub use run_input::RunInput;
