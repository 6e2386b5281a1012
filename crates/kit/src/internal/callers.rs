//! Which service may call what: each calling service has its own internal
//! credential, allowed only the methods its peer clients call, and each
//! credential may have a previous value that is still accepted, so it can be
//! rotated without downtime.

use std::collections::HashMap;

use uuid::Uuid;

use super::InternalCredentials;
use crate::{
    config::{Config, ConfigError, Secret},
    tenants::hash_key,
};

/// A Rapport service that calls others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Caller {
    /// Resolves identities through Profiles; its relay delivers changes to Scoring.
    Ingestion,
    /// Refreshes from and rules read Profiles; rules send through
    /// Notifications, and look up the integration endpoints they post to.
    Scoring,
    /// Reads consent and contact details from Profiles, scores from Scoring.
    Notifications,
    /// Exports and erases a customer's data in the other three services.
    Profiles,
}

/// Methods one credential may call, as `/package.Service/Method`.
type Methods = &'static [&'static str];

const INGESTION: Methods = &[
    "/rapport.v1.ScoringService/ApplyChanges",
    "/rapport.v1.ProfilesService/ResolveIdentities",
    // The opportunities' refit: each account's parent and tier.
    "/rapport.v1.ProfilesService/GetCustomer",
    "/rapport.v1.ScoringService/BatchGetScores",
];
const SCORING: Methods = &[
    "/rapport.v1.NotificationsService/SendNotification",
    "/rapport.v1.NotificationsService/GetIntegrationEndpoint",
    "/rapport.v1.ProfilesService/ListCustomers",
    "/rapport.v1.ProfilesService/GetCustomer",
];
const NOTIFICATIONS: Methods = &[
    "/rapport.v1.ProfilesService/GetCustomer",
    "/rapport.v1.ScoringService/GetScore",
];
const PROFILES: Methods = &[
    "/rapport.v1.IngestionService/ExportCustomerActivity",
    "/rapport.v1.IngestionService/EraseCustomerActivity",
    "/rapport.v1.ScoringService/ExportCustomerScores",
    "/rapport.v1.ScoringService/EraseCustomerScores",
    "/rapport.v1.NotificationsService/ExportCustomerNotifications",
    "/rapport.v1.NotificationsService/EraseCustomerNotifications",
];

impl Caller {
    /// Every calling service.
    pub const ALL: [Caller; 4] = [
        Caller::Ingestion,
        Caller::Scoring,
        Caller::Notifications,
        Caller::Profiles,
    ];

    /// "ingestion", "scoring", "notifications" or "profiles".
    pub fn name(self) -> &'static str {
        match self {
            Caller::Ingestion => "ingestion",
            Caller::Scoring => "scoring",
            Caller::Notifications => "notifications",
            Caller::Profiles => "profiles",
        }
    }

    /// The caller a service (by its `rapport serve` name) calls as.
    pub fn of_service(name: &str) -> Option<Caller> {
        Caller::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The methods this caller may call: what its peer clients call, and
    /// nothing else.
    pub fn methods(self) -> Methods {
        match self {
            Caller::Ingestion => INGESTION,
            Caller::Scoring => SCORING,
            Caller::Notifications => NOTIFICATIONS,
            Caller::Profiles => PROFILES,
        }
    }

    /// Whether this caller may call `path` (`/package.Service/Method`).
    pub fn may_call(self, path: &str) -> bool {
        self.methods().contains(&path)
    }

    fn configured(self, config: &Config) -> Option<&Secret> {
        let t = &config.internal_tokens;
        match self {
            Caller::Ingestion => t.ingestion.as_ref(),
            Caller::Scoring => t.scoring.as_ref(),
            Caller::Notifications => t.notifications.as_ref(),
            Caller::Profiles => t.profiles.as_ref(),
        }
    }

    fn setting(self) -> String {
        format!("RAPPORT_INTERNAL_TOKENS__{}", self.name().to_uppercase())
    }
}

/// The gRPC services a Rapport service serves, by its `rapport serve` name.
fn served_by(service: &str) -> &'static [&'static str] {
    match service {
        "profiles" => &["rapport.v1.ProfilesService"],
        "ingestion" => &["rapport.v1.IngestionService"],
        "scoring" => &["rapport.v1.ScoringService", "rapport.v1.RulesService"],
        "notifications" => &["rapport.v1.NotificationsService"],
        _ => &[],
    }
}

/// Whether `caller` may call anything `service` serves.
fn calls(caller: Caller, service: &str) -> bool {
    caller.methods().iter().any(|m| {
        served_by(service).iter().any(|s| {
            m.strip_prefix('/')
                .and_then(|m| m.strip_prefix(s))
                .is_some()
        })
    })
}

/// The internal credentials a process accepts: each one's hash and the
/// callers it stands for.
#[derive(Debug, Clone, Default)]
pub struct Accepted(HashMap<String, Vec<Caller>>);

impl Accepted {
    fn add(&mut self, token: &str, caller: Caller) {
        let callers = self.0.entry(hash_key(token)).or_default();
        if !callers.contains(&caller) {
            callers.push(caller);
        }
    }

    /// The callers a credential (by its [`hash_key`]) stands for; `None` for
    /// anything that is not an internal credential.
    pub fn callers(&self, hash: &str) -> Option<&[Caller]> {
        self.0.get(hash).map(Vec::as_slice)
    }
}

/// Shortest per-service credential accepted in configuration.
const MIN_LEN: usize = 16;

/// How a process runs, for deciding which internal credentials it needs.
#[derive(Debug, Clone, Copy)]
pub enum Shape<'a> {
    /// All four services in one process: they present one credential,
    /// accepted as every caller (there is no boundary between them to
    /// guard); other processes' credentials are accepted as configured.
    AllInOne,
    /// One service per process: it presents its own credential and accepts
    /// those of the callers that call it; each must be configured.
    Service(&'a str),
    /// A process of the split shape serving no one service (older set-ups):
    /// every credential must be configured; it presents `internal_token`.
    Split,
}

/// `current[,previous...]`: the values of one credential setting, each at
/// least `min` characters long.
fn values(setting: &str, secret: Option<&Secret>, min: usize) -> Result<Vec<String>, ConfigError> {
    let Some(secret) = secret else {
        return Ok(Vec::new());
    };
    secret
        .expose()
        .split(',')
        .map(str::trim)
        .map(|v| match v.len() {
            0 => Err(ConfigError::Invalid(format!(
                "{setting} has an empty value"
            ))),
            n if n < min => Err(ConfigError::Invalid(format!(
                "{setting}: each credential must be at least {min} characters"
            ))),
            _ => Ok(v.to_owned()),
        })
        .collect()
}

/// The credentials a process accepts and the one it presents, from
/// `internal_tokens` (per caller) and `internal_token` (every caller left
/// unset there). Fails naming the settings a one-service process lacks.
pub fn credentials(
    config: &Config,
    shape: Shape<'_>,
) -> Result<(Accepted, InternalCredentials), ConfigError> {
    // The older shared setting keeps accepting what it accepted.
    let shared = values("RAPPORT_INTERNAL_TOKEN", config.internal_token.as_ref(), 1)?;
    let mut accepted = Accepted::default();
    let mut tokens = HashMap::new();
    for caller in Caller::ALL {
        let own = values(&caller.setting(), caller.configured(config), MIN_LEN)?;
        let list = if own.is_empty() { shared.clone() } else { own };
        for token in &list {
            accepted.add(token, caller);
        }
        tokens.insert(caller, list);
    }
    let needed: Vec<Caller> = match shape {
        Shape::AllInOne => Vec::new(),
        Shape::Split => Caller::ALL.to_vec(),
        Shape::Service(service) => Caller::ALL
            .into_iter()
            .filter(|c| Caller::of_service(service) == Some(*c) || calls(*c, service))
            // Profiles calls the others only to export and erase customers:
            // without its credential those calls are refused, nothing else,
            // so deployments from before it existed keep starting.
            .filter(|c| *c != Caller::Profiles)
            .collect(),
    };
    let missing: Vec<String> = needed
        .iter()
        .filter(|c| tokens[*c].is_empty())
        .map(|c| c.setting())
        .collect();
    if !missing.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "set {} (or RAPPORT_INTERNAL_TOKEN for every service): the services' credentials",
            missing.join(" and ")
        )));
    }
    // A value no one accepts, for a process that calls no one.
    let unused = || format!("internal_unused_{}", Uuid::new_v4().simple());
    let presented = match shape {
        Shape::AllInOne => {
            let token = shared.first().cloned().unwrap_or_else(|| {
                format!(
                    "internal_{}{}",
                    Uuid::new_v4().simple(),
                    Uuid::new_v4().simple()
                )
            });
            for caller in Caller::ALL {
                accepted.add(&token, caller);
            }
            token
        }
        Shape::Service(service) => match Caller::of_service(service) {
            Some(caller) => tokens[&caller].first().cloned().unwrap_or_else(unused),
            None => unused(),
        },
        Shape::Split => shared.first().cloned().unwrap_or_else(unused),
    };
    Ok((accepted, InternalCredentials::new(Secret::new(presented))))
}

#[cfg(test)]
mod tests;
