//! Customer-value science.
#![forbid(unsafe_code)]
