//! The integration endpoints a definition posts to, looked up in the
//! notifications service: saving (and ValidateRule) reports an endpoint the
//! tenant never registered as a field violation, and publishing refuses a
//! version whose endpoint was deleted since it was saved. Otherwise the
//! first firing would find out, failing at SendNotification. Bare URLs of
//! versions saved before endpoints existed are not looked up: they still
//! post as customer-facing webhooks.

use std::collections::BTreeMap;

use rapport_proto::v1::GetIntegrationEndpointRequest;
use tonic::Code;
use uuid::Uuid;

use super::{
    Rules,
    actions::transient,
    definition::{Action, Definition},
    validate::Diagnostic,
};
use crate::error::Error;

/// The endpoints `def` posts to, each name once, with the indexes of the
/// actions naming it.
fn named(def: &Definition) -> BTreeMap<&str, Vec<usize>> {
    let mut names: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, a) in def.actions.iter().enumerate() {
        if let Action::Integration { endpoint } = a {
            names.entry(endpoint.as_str()).or_default().push(i);
        }
    }
    names
}

/// Why a save naming `endpoint` is refused.
fn unregistered(endpoint: &str) -> String {
    format!(
        "no integration endpoint named {endpoint:?} is registered: register it with \
         NotificationsService.PutIntegrationEndpoint (rapport endpoints put)"
    )
}

impl Rules {
    /// Whether the tenant registered endpoint `name`; `Unavailable` when the
    /// notifications service cannot be asked.
    pub(crate) async fn endpoint_registered(
        &self,
        tenant: Uuid,
        name: &str,
    ) -> Result<bool, Error> {
        let request = GetIntegrationEndpointRequest {
            name: name.to_owned(),
        };
        let request = self.internal.request(tenant, None, request);
        match (self.notifications.clone())
            .get_integration_endpoint(request)
            .await
        {
            Ok(_) => Ok(true),
            Err(s) if s.code() == Code::NotFound => Ok(false),
            Err(s) if transient(&s) => Err(Error::Unavailable(format!(
                "the notifications service could not be asked whether integration endpoint \
                 {name:?} is registered ({}); retry",
                s.message()
            ))),
            // A refusal (a credential not allowed the lookup, a name it
            // does not take) is a deployment fault, not the caller's.
            Err(s) => Err(Error::Internal(anyhow::anyhow!(
                "notifications GetIntegrationEndpoint {name:?}: {:?}: {}",
                s.code(),
                s.message()
            ))),
        }
    }

    /// The endpoints of `def` the tenant has not registered, each with the
    /// indexes of the actions naming it; each name is looked up once.
    async fn missing_endpoints<'a>(
        &self,
        tenant: Uuid,
        def: &'a Definition,
    ) -> Result<Vec<(&'a str, Vec<usize>)>, Error> {
        let mut missing = Vec::new();
        for (name, actions) in named(def) {
            if !self.endpoint_registered(tenant, name).await? {
                missing.push((name, actions));
            }
        }
        Ok(missing)
    }

    /// One diagnostic per action of `def` naming an endpoint the tenant has
    /// not registered, for a save or ValidateRule.
    pub(super) async fn endpoint_diagnostics(
        &self,
        tenant: Uuid,
        def: &Definition,
    ) -> Result<Vec<Diagnostic>, Error> {
        let missing = self.missing_endpoints(tenant, def).await?;
        let mut actions: Vec<(usize, &str)> = missing
            .iter()
            .flat_map(|(name, actions)| actions.iter().map(move |i| (*i, *name)))
            .collect();
        // In the order of the actions, as the other violations are.
        actions.sort_unstable();
        Ok(actions
            .into_iter()
            .map(|(i, name)| Diagnostic {
                field: format!("definition.actions[{i}].webhook.endpoint"),
                line: 0,
                column: 0,
                message: unregistered(name),
            })
            .collect())
    }

    /// Refuses to publish `def` (version `version`) while an endpoint it
    /// posts to is not registered: deleted since the version was saved.
    pub(super) async fn require_endpoints(
        &self,
        tenant: Uuid,
        version: i64,
        def: &Definition,
    ) -> Result<(), Error> {
        match self.missing_endpoints(tenant, def).await?.first() {
            Some((name, _)) => Err(Error::EndpointNotRegistered {
                endpoint: (*name).to_owned(),
                version,
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::definition::Trigger;

    #[test]
    fn each_endpoint_is_named_once_and_bare_urls_not_at_all() {
        let post = |endpoint: &str| Action::Integration {
            endpoint: endpoint.into(),
        };
        let def = Definition {
            name: "r".into(),
            description: String::new(),
            condition: "true".into(),
            trigger: Trigger::ScoreChange,
            event_kinds: Vec::new(),
            actions: vec![
                post("crm"),
                // Saved before endpoints existed: posts as a customer-facing
                // webhook, never looked up.
                Action::Webhook {
                    url: "https://hooks.example.com/h".into(),
                },
                post("warehouse"),
                post("crm"),
            ],
            topic: String::new(),
            holdout_percent: 0,
            audience: String::new(),
        };
        let names: Vec<_> = named(&def).into_iter().collect();
        assert_eq!(names, [("crm", vec![0, 3]), ("warehouse", vec![2])]);
    }
}
