//! Inputs: command-line paths -> runs (`layout`: the directory layouts agents write, run names)
//! -> records of each format (`record`, `formats/`) -> a `Dataset`, the instance x run grid of
//! candidates (patch, embedded label, where to re-read the trajectory); trajectories as plain
//! data on demand (`trajectory`); labels from harness reports (`labels`).

mod dataset;
pub mod formats;
mod harness_logs;
pub mod issues;
pub mod labels;
pub mod layout;
mod read;
pub mod record;
mod run_files;
mod run_names;
pub mod stream;
pub mod trajectory;

pub use dataset::{Candidate, Dataset, LoadOptions, load, name_order, read_instance_list};
pub use layout::{InputSpec, RunInput, expand_inputs};
pub use record::Format;
