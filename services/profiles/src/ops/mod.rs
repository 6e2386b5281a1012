//! The service's operations, written once against [`crate::store::Store`].

pub(crate) mod customers;
pub(crate) mod identities;
pub(crate) mod records;
pub(crate) mod upsert;
