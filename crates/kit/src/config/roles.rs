//! Process roles: which of a service's parts one process runs, so the API
//! and the background workers can run as separate Deployments with their own
//! replicas and resources (`RAPPORT_ROLES=serve` beside `RAPPORT_ROLES=relay`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One part of a service a process may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// The gRPC API (every service).
    Serve,
    /// Ingestion's outbox relay to scoring.
    Relay,
    /// Scoring's rules worker: the event queue and the schedule pass.
    Rules,
    /// Notifications' delivery worker.
    Notify,
    /// Scoring's background refresh: model fits, wallet estimates, rescoring.
    Refresh,
}

impl Role {
    /// Every role, in the order they are written.
    pub const ALL: [Role; 5] = [
        Role::Serve,
        Role::Relay,
        Role::Rules,
        Role::Notify,
        Role::Refresh,
    ];

    /// The role's name in `roles`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Serve => "serve",
            Role::Relay => "relay",
            Role::Rules => "rules",
            Role::Notify => "notify",
            Role::Refresh => "refresh",
        }
    }

    fn parse(raw: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == raw)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The roles a process runs: `all` (the default: every part of the service
/// it is) or a comma-separated list of [`Role`] names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Roles(Option<Vec<Role>>);

impl Roles {
    /// Every part of whichever service runs.
    pub fn all() -> Roles {
        Roles(None)
    }

    /// Exactly `roles`.
    pub fn only(roles: &[Role]) -> Roles {
        let mut list = roles.to_vec();
        list.sort();
        list.dedup();
        Roles(Some(list))
    }

    /// Parses `all` or `serve,relay`, naming the setting and the known roles
    /// when a name is not one of them.
    pub fn parse(raw: &str) -> Result<Roles, String> {
        let raw = raw.trim();
        if raw.is_empty() || raw == "all" {
            return Ok(Roles::all());
        }
        let mut list = Vec::new();
        for name in raw.split(',').map(str::trim) {
            let role = Role::parse(name).ok_or_else(|| {
                format!(
                    "roles: {name:?} is not a role; roles are all or a list of {}",
                    Role::ALL.map(Role::name).join(", ")
                )
            })?;
            list.push(role);
        }
        Ok(Roles::only(&list))
    }

    /// Of `service`'s roles `own`, those this process runs. Refused, naming
    /// the setting, when the list names a role `service` does not have (a
    /// Deployment wired to the wrong service).
    pub fn of(&self, service: &str, own: &[Role]) -> Result<RoleSet, String> {
        let Some(list) = &self.0 else {
            return Ok(RoleSet(own.to_vec()));
        };
        let owns = || own.iter().map(|r| r.name()).collect::<Vec<_>>().join(", ");
        if let Some(foreign) = list.iter().find(|r| !own.contains(r)) {
            return Err(format!(
                "roles: {service} has no {foreign} role; its roles are {}",
                owns()
            ));
        }
        Ok(RoleSet(list.clone()))
    }
}

impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("all"),
            Some(list) => {
                let names: Vec<&str> = list.iter().map(|r| r.name()).collect();
                f.write_str(&names.join(","))
            }
        }
    }
}

impl Serialize for Roles {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Roles {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Roles, D::Error> {
        let raw = String::deserialize(d)?;
        Roles::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The roles one service's process runs (see [`Roles::of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSet(Vec<Role>);

impl RoleSet {
    /// Whether this process runs `role`.
    pub fn has(&self, role: Role) -> bool {
        self.0.contains(&role)
    }
}

impl fmt::Display for RoleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|r| r.name()).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_runs_every_role_of_the_service() {
        let set = Roles::parse("all")
            .unwrap()
            .of("ingestion", &[Role::Serve, Role::Relay]);
        let set = set.unwrap();
        assert!(set.has(Role::Serve) && set.has(Role::Relay));
        assert!(!set.has(Role::Rules));
    }

    #[test]
    fn a_list_runs_only_what_it_names() {
        let roles = Roles::parse(" refresh , rules ").unwrap();
        assert_eq!(roles.to_string(), "rules,refresh");
        let set = roles
            .of("scoring", &[Role::Serve, Role::Refresh, Role::Rules])
            .unwrap();
        assert!(!set.has(Role::Serve));
        assert!(set.has(Role::Refresh) && set.has(Role::Rules));
    }

    #[test]
    fn unknown_and_foreign_roles_are_refused_by_name() {
        let e = Roles::parse("serve,relya").unwrap_err();
        assert!(e.contains("\"relya\" is not a role"), "{e}");
        let e = Roles::parse("relay")
            .unwrap()
            .of("scoring", &[Role::Serve, Role::Refresh, Role::Rules])
            .unwrap_err();
        assert_eq!(
            e,
            "roles: scoring has no relay role; its roles are serve, refresh, rules"
        );
    }
}
