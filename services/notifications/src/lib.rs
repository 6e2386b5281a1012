//! Rapport notifications service.
#![forbid(unsafe_code)]
