//! What the audit trail says of notifications' changes: templates by
//! version, the contact policy field by field, integration endpoints by
//! which of their parts changed (the URL's host only: a URL may carry a
//! token), the webhook secret as "rotated". Never a secret, a template's
//! text or anyone's contact details.

use rapport_kit::audit;
use rapport_proto::v1 as pb;
use serde_json::{Value, json};

use crate::model::{Endpoint, Template};

/// The audit target of a template: `template:<name>/<channel>/<locale>`.
pub fn template_target(name: &str, channel: &str, locale: &str) -> String {
    format!("template:{name}/{channel}/{locale}")
}

/// A template saved as a new version.
pub fn template_saved(t: &Template) -> (String, Value) {
    let before = (t.version > 1).then(|| t.version - 1);
    let summary = json!({ "before": { "version": before }, "after": { "version": t.version } });
    (template_target(&t.name, &t.channel, &t.locale), summary)
}

/// Every version of a template deleted.
pub fn template_deleted() -> Value {
    json!({ "deleted": true })
}

/// The audit target of the contact policy.
pub const POLICY: &str = "contact_policy";

/// The fields of the contact policy that changed, before and after.
pub fn policy(before: &pb::ContactPolicy, after: &pb::ContactPolicy) -> Value {
    let name = "rapport.v1.ContactPolicy";
    let (b, a) = (
        audit::proto_json(name, before),
        audit::proto_json(name, after),
    );
    audit::diff(&b, &a, &[])
}

/// The audit target of the tenant's webhook signing secret.
pub const WEBHOOK_SECRET: &str = "webhook_secret";

/// A secret replaced: said so, never shown.
pub fn rotated() -> Value {
    json!({ "secret": "rotated" })
}

/// The audit target of an integration endpoint.
pub fn endpoint_target(name: &str) -> String {
    format!("endpoint:{name}")
}

/// An endpoint saved: which of its parts changed since `before` (none
/// before a creation), with the URL's scheme and host either side.
pub fn endpoint_saved(before: Option<&Endpoint>, after: &Endpoint) -> Value {
    let Some(b) = before else {
        return json!({ "before": null, "after": { "host": host(&after.url) } });
    };
    let mut changed = Vec::new();
    if b.url != after.url {
        changed.push("url");
    }
    if b.description != after.description {
        changed.push("description");
    }
    if b.secret_set_at != after.secret_set_at {
        changed.push("signing_secret");
    }
    json!({
        "changed": changed,
        "before": { "host": host(&b.url) },
        "after": { "host": host(&after.url) },
    })
}

/// An endpoint deleted.
pub fn endpoint_deleted() -> Value {
    json!({ "deleted": true })
}

/// `scheme://host[:port]` of a URL: no user info, path or query, which may
/// hold tokens.
fn host(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_host_leaves_out_credentials_and_paths() {
        assert_eq!(
            super::host("https://user:pw@hooks.example.com:8443/T0/B1/secret?x=1"),
            "https://hooks.example.com:8443"
        );
    }
}
