//! The scoring service as its own process. Needs `RAPPORT_INTERNAL_TOKEN`,
//! `RAPPORT_PEERS__PROFILES_URL` (wallet estimates come from Profiles) and
//! `RAPPORT_PEERS__NOTIFICATIONS_URL` (rules contact customers through it).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    rapport_kit::app::service_main(
        "rapport-scoring: the Rapport scoring service",
        rapport_scoring::PEERS,
        rapport_scoring::serve,
    )
}
