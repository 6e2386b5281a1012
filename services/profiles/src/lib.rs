//! Rapport profiles service.
#![forbid(unsafe_code)]
