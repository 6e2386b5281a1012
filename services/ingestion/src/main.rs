//! The ingestion service as its own process. Needs `RAPPORT_INTERNAL_TOKEN`,
//! `RAPPORT_PEERS__PROFILES_URL` and `RAPPORT_PEERS__SCORING_URL`.
#![forbid(unsafe_code)]

rapport_kit::service_main!(
    "rapport-ingestion: the Rapport ingestion service",
    rapport_ingestion
);
