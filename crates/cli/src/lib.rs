//! The `rapport` command's library: the all-in-one suite (every service in one
//! process, composed from the service crates), CSV imports through the gRPC
//! API, the demo, the split topology on one machine and the benchmark suite.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
pub mod bench;
pub mod changes;
pub mod channel;
pub mod cli;
pub mod client;
pub mod customers;
pub mod demo;
pub mod endpoints;
pub mod import;
pub mod notifications;
pub mod opportunities;
pub mod points;
pub mod report;
pub mod rules;
pub mod split;
pub mod suite;
pub mod templates;
pub mod verify;
