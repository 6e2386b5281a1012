//! Rapport's rules language (work in progress).
#![forbid(unsafe_code)]
