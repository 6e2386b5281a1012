//! Behavioural suite of the ingestion service, run against both backends.

mod events;
mod isolation;
mod limits;
mod metrics;
mod opportunities;
mod relay;
mod support;
mod totals;
mod transactions;
mod validation;
