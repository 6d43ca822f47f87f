//! One module per input format: how a record of that format gives its patch, its label and, on
//! demand, its trajectory. Field paths follow the agents' own writer code
//! (../shared/spec/formats.md).

pub mod acr;
pub mod chat;
pub mod mini;
pub mod openhands;
pub mod predictions;
pub mod sweagent;
