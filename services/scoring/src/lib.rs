//! Rapport scoring service.
#![forbid(unsafe_code)]
