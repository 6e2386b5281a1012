//! Rapport ingestion service.
#![forbid(unsafe_code)]
