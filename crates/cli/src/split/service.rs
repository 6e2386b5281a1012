//! The four services as `rapport serve` knows them: their names, the order
//! they start in, and the peers each one calls.

use rapport_kit::app::App;

/// The four services, in the order they are started (each only needs its
/// peers' addresses, not their readiness: connections are made lazily).
pub const SERVICES: [&str; 4] = ["profiles", "notifications", "scoring", "ingestion"];

/// A service, as `rapport serve` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Service {
    /// Customers, identities, consent, hierarchy.
    Profiles,
    /// Transactions, events and the outbox relay.
    Ingestion,
    /// Scores, models and rules.
    Scoring,
    /// Templates and deliveries.
    Notifications,
}

/// Runs `service` in this process until SIGTERM or SIGINT.
pub async fn serve(service: Service, app: App) -> anyhow::Result<()> {
    match service {
        Service::Profiles => rapport_profiles::serve(app).await,
        Service::Ingestion => rapport_ingestion::serve(app).await,
        Service::Scoring => rapport_scoring::serve(app).await,
        Service::Notifications => rapport_notifications::serve(app).await,
    }
}

/// The peers each service needs.
pub fn peers_of(service: &str) -> &'static [&'static str] {
    match service {
        "ingestion" => rapport_ingestion::PEERS,
        "scoring" => rapport_scoring::PEERS,
        "notifications" => rapport_notifications::PEERS,
        _ => rapport_profiles::PEERS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_peer_a_service_needs_is_a_service() {
        for s in SERVICES {
            for p in peers_of(s) {
                assert!(SERVICES.contains(p), "{s} needs unknown {p}");
            }
        }
        assert_eq!(peers_of("ingestion"), ["profiles", "scoring"]);
    }
}
