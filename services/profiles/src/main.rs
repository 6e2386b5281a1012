//! The profiles service as its own process.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    rapport_kit::app::service_main(
        "rapport-profiles: the Rapport profiles service",
        rapport_profiles::PEERS,
        rapport_profiles::serve,
    )
}
