//! The notifications service as its own process: the gRPC API and the
//! delivery worker over one pool, calling profiles and scoring at the
//! configured peer URLs.
#![forbid(unsafe_code)]

rapport_kit::service_main!(
    "rapport-notifications: the Rapport notifications service",
    rapport_notifications
);
