//! Behavioural suite of the ingestion service, run against both backends.

mod events;
mod fakes;
mod harness;
mod isolation;
mod relay;
mod transactions;
mod validation;
