//! The production topology on one machine: the four services as separate
//! processes (`rapport serve <service>`, the same code as each service's own
//! binary), each told where its peers are and all sharing one internal
//! credential. `rapport up --split` supervises them; the benchmark suite
//! starts its split target through the same code.

mod addrs;
mod process;
mod service;
mod up;

pub use addrs::{addrs_from, free_addrs};
pub use process::{ServiceProcess, Split, SplitOptions, terminate};
pub use service::{SERVICES, Service, peers_of, serve};
pub use up::run;
