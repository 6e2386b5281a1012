//! `rapport import customers|transactions FILE`: CSV as an ERP exports it,
//! sent through the gRPC API in batches. Re-running a file changes nothing:
//! customers are keyed by their identity, transactions by (source,
//! transaction id).

mod customers;
mod file;
mod report;
mod time;
mod transactions;

pub use customers::import_customers;
pub use file::ImportOptions;
pub use report::{ImportSummary, Rejection};
pub use time::parse_time;
pub use transactions::import_transactions;
