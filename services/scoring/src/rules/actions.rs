//! A firing's actions. Contact goes through the notifications service with a
//! dedupe key fixed by (topic, customer, episode), so a retried firing never
//! contacts twice; tier and tag marks are set idempotently. A notifications
//! service that cannot be reached fails the firing (the work is retried); any
//! other answer is recorded as the action's outcome.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rapport_kit::{domain::chrono_to_timestamp, tenants::Tenant};
use rapport_proto::v1::{Channel, NotificationStatus, SendNotificationRequest};
use tonic::Code;
use uuid::Uuid;

use super::{Rules, definition::Action, evaluate::Compiled};
use crate::{
    aggregates::rule_work::EventFacts,
    error::{Error, storage},
};

/// The dedupe key of a rule's contact: the topic (the rule id unless set),
/// customer and episode; a second contact action of the rule adds its index.
pub fn dedupe_key(topic: &str, customer: Uuid, episode: &str, index: usize) -> String {
    let base = format!("topic:{topic}:{customer}:{episode}");
    if index == 0 {
        base
    } else {
        format!("{base}:{index}")
    }
}

/// When a notify action sends: after its delay, or its lead time before an
/// event property's time; `Err` names what is missing.
fn send_at(
    a: &Action,
    event: Option<&EventFacts>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, String> {
    let Action::Notify {
        delay_seconds,
        before_event_property,
        before_seconds,
        ..
    } = a
    else {
        return Ok(None);
    };
    if !before_event_property.is_empty() {
        let raw = event
            .and_then(|e| e.properties.get(before_event_property))
            .ok_or_else(|| format!("event property {before_event_property:?} missing"))?;
        let event_at = DateTime::parse_from_rfc3339(raw)
            .map_err(|_| {
                format!("event property {before_event_property:?} is not an RFC 3339 time")
            })?
            .with_timezone(&Utc);
        // Checked: a time near the end of the calendar must not panic the worker.
        let at = Duration::try_seconds(*before_seconds)
            .and_then(|d| event_at.checked_sub_signed(d))
            .ok_or_else(|| format!("{before_seconds} s before {raw} is out of range"))?;
        return Ok((at > now).then_some(at));
    }
    if *delay_seconds <= 0 {
        return Ok(None);
    }
    Duration::try_seconds(*delay_seconds)
        .and_then(|d| now.checked_add_signed(d))
        .map(Some)
        .ok_or_else(|| format!("a delay of {delay_seconds} s is out of range"))
}

/// Template data from a firing's inputs: "score.monthly_profit" becomes
/// `score_monthly_profit`; what cannot be a field name or is too long to be
/// a value (whole maps) is left out.
fn template_data(inputs: &BTreeMap<String, String>) -> std::collections::HashMap<String, String> {
    inputs
        .iter()
        .map(|(k, v)| {
            let key: String = k
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            (key, v)
        })
        .filter(|(k, v)| {
            k.len() <= 64 && k.starts_with(|c: char| c.is_ascii_alphabetic()) && v.len() <= 1_000
        })
        .map(|(k, v)| (k, v.clone()))
        .collect()
}

/// Whether a failed call to the notifications service is the transport's
/// (or a busy peer's) rather than the peer's answer: a SendNotification is
/// then retried (the firing's work stays queued) rather than recorded as
/// the action's outcome.
pub(crate) fn transient(status: &tonic::Status) -> bool {
    use std::error::Error as _;
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Aborted => {
            true
        }
        // Made on this side by the transport (a connection reset while the
        // call was in flight, the peer killed), not answered by the peer:
        // the notification may or may not have been accepted, and sending
        // it again with the same dedupe key is safe.
        Code::Unknown | Code::Cancelled | Code::Internal => status.source().is_some(),
        _ => false,
    }
}

impl Rules {
    /// Performs `rule`'s actions for one firing; returns one outcome each.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn perform(
        &self,
        tenant: &Tenant,
        rule: &Compiled,
        customer: Uuid,
        episode: &str,
        event: Option<&EventFacts>,
        inputs: &BTreeMap<String, String>,
        holdout: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, Error> {
        let topic = if rule.def.topic.is_empty() {
            rule.id.as_str()
        } else {
            rule.def.topic.as_str()
        };
        let origin = format!("rule:{}:v{}", rule.id, rule.version);
        let mut results = Vec::with_capacity(rule.def.actions.len());
        let mut contact = 0;
        for a in &rule.def.actions {
            if a.contacts() {
                let key = dedupe_key(topic, customer, episode, contact);
                contact += 1;
                if holdout {
                    results.push("holdout: not contacted".to_owned());
                    continue;
                }
                let when = match send_at(a, event, now) {
                    Ok(w) => w,
                    Err(why) => {
                        results.push(format!("skipped: {why}"));
                        continue;
                    }
                };
                let mut request = SendNotificationRequest {
                    dedupe_key: key,
                    customer_id: customer.to_string(),
                    data: template_data(inputs),
                    origin: origin.clone(),
                    send_at: when.map(chrono_to_timestamp),
                    ..SendNotificationRequest::default()
                };
                match a {
                    Action::Notify {
                        channel,
                        template,
                        locale,
                        purpose,
                        ..
                    } => {
                        request.channel = *channel;
                        request.template = template.clone();
                        request.locale = locale.clone();
                        request.purpose = *purpose;
                    }
                    Action::Webhook { .. } | Action::Integration { .. } => {
                        request.channel = Channel::Webhook as i32;
                        match a {
                            Action::Webhook { url } => request.destination = url.clone(),
                            Action::Integration { endpoint } => {
                                request.integration_endpoint = endpoint.clone();
                            }
                            _ => {}
                        }
                        request.purpose = rapport_proto::v1::Purpose::Transactional as i32;
                        request.subject = format!("rule {} fired", rule.def.name);
                        request.body = serde_json::json!({
                            "rule_id": rule.id,
                            "rule_version": rule.version,
                            "customer_id": customer.to_string(),
                            "episode": episode,
                            "inputs": inputs,
                        })
                        .to_string();
                    }
                    _ => {}
                }
                results.push(self.send(tenant.id, request).await?);
                continue;
            }
            let mut marks = self
                .evaluation
                .marks(tenant.id, customer)
                .await
                .map_err(storage("rule evaluation"))?;
            match a {
                Action::SetTier { tier } => {
                    marks.tier = Some(tier.clone());
                    marks.origin = Some(format!("rule {} v{}", rule.id, rule.version));
                    results.push(format!("tier set to {tier}"));
                }
                Action::Tag { tag } => {
                    if let Err(i) = marks.tags.binary_search(tag) {
                        marks.tags.insert(i, tag.clone());
                    }
                    results.push(format!("tag {tag}"));
                }
                _ => {}
            }
            self.scores.set_marks(tenant.id, customer, &marks).await?;
        }
        Ok(results)
    }

    /// One SendNotification; its outcome as text, or `Unavailable` to retry.
    async fn send(&self, tenant: Uuid, request: SendNotificationRequest) -> Result<String, Error> {
        let request = self.internal.request(tenant, None, request);
        match self.notifications.clone().send_notification(request).await {
            Ok(r) => {
                let n = r.into_inner().notification.unwrap_or_default();
                let status = NotificationStatus::try_from(n.status)
                    .unwrap_or(NotificationStatus::Unspecified);
                Ok(if status == NotificationStatus::Suppressed {
                    format!("suppressed: {}", n.suppressed_reason)
                } else {
                    let name = status
                        .as_str_name()
                        .trim_start_matches("NOTIFICATION_STATUS_");
                    format!("notification {} {}", n.id, name.to_ascii_lowercase())
                })
            }
            Err(s) if transient(&s) => Err(Error::Unavailable(format!(
                "notifications: {}",
                s.message()
            ))),
            Err(s) => Ok(format!("failed: {:?}: {}", s.code(), s.message())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_cut_by_the_transport_is_retried_and_a_refusal_is_not() {
        let cut = tonic::Status::from_error(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        )));
        assert_eq!(cut.code(), Code::Unknown);
        assert!(transient(&cut), "{cut:?}");
        assert!(transient(&tonic::Status::unavailable("down")));
        // The same codes answered by the peer itself are its answer.
        assert!(!transient(&tonic::Status::unknown("answered")));
        assert!(!transient(&tonic::Status::invalid_argument("bad")));
    }

    #[test]
    fn keys_are_fixed_by_topic_customer_and_episode() {
        let c = Uuid::nil();
        assert_eq!(
            dedupe_key("welcome", c, "evt:1", 0),
            format!("topic:welcome:{c}:evt:1")
        );
        assert_eq!(
            dedupe_key("welcome", c, "evt:1", 1),
            format!("topic:welcome:{c}:evt:1:1")
        );
    }

    #[test]
    fn reminders_go_out_before_the_event() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let a = Action::Notify {
            channel: 1,
            template: "t".into(),
            locale: String::new(),
            purpose: 2,
            delay_seconds: 0,
            before_event_property: "appointment_at".into(),
            before_seconds: 86_400,
        };
        let mut e = EventFacts::default();
        assert!(send_at(&a, Some(&e), now).is_err());
        e.properties
            .insert("appointment_at".into(), "2026-01-05T10:00:00Z".into());
        let at = send_at(&a, Some(&e), now).unwrap().unwrap();
        assert_eq!(at.to_rfc3339(), "2026-01-04T10:00:00+00:00");
    }
}
