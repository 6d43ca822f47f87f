//! swerm's integration tests, one binary (ripgrep's habit): each module runs the real binary on
//! fixtures the project makes itself; `util` holds the shared helpers.

mod calibrate;
mod cli;
mod combine;
mod compare;
mod critic;
mod engine;
mod generate;
mod gpu_check;
mod honest;
mod html;
mod inputs;
mod layouts;
mod messages;
mod pairwise;
mod privileged;
mod readme;
mod reliability;
mod scale;
mod store;
mod tables;
mod trust;
mod util;
mod verifier;
