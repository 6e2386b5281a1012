//! The profiles service as its own process.
#![forbid(unsafe_code)]

rapport_kit::service_main!(
    "rapport-profiles: the Rapport profiles service",
    rapport_profiles
);
