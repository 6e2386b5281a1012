//! The scoring service as its own process. Needs `RAPPORT_INTERNAL_TOKEN`,
//! `RAPPORT_PEERS__PROFILES_URL` (wallet estimates come from Profiles) and
//! `RAPPORT_PEERS__NOTIFICATIONS_URL` (rules contact customers through it).
#![forbid(unsafe_code)]

rapport_kit::service_main!(
    "rapport-scoring: the Rapport scoring service",
    rapport_scoring
);
