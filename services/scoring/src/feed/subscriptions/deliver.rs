//! The delivery worker: leases due subscriptions, reads the log after each
//! one's place and hands the events to the notifications service as posts to
//! the subscription's endpoint. A post's end is recorded before it is handed
//! over and its dedupe key is fixed by where it starts, so a worker that
//! stops anywhere leaves the next one to hand over the same post, which the
//! notifications service then sends only once.

use std::{collections::HashSet, time::Duration as StdDuration};

use chrono::{Duration, Utc};
use prost::Message;
use rapport_proto::v1::{Channel, Purpose, ScoreChangeEvent, SendNotificationRequest};
use uuid::Uuid;

use super::{Subscriptions, repo::Stored, st};
use crate::{
    error::Error,
    feed::{Position, watch::filtered},
    rules::actions::transient,
};

/// Most events in one post.
pub const MAX_EVENTS: usize = 100;
/// Most bytes of a post's body (the notifications service takes 64 KiB).
pub const MAX_BODY: usize = 60 * 1024;
/// Most posts one lease hands over before the subscription is let go, so
/// every subscription gets its turn.
const POSTS_PER_TURN: u32 = 20;
/// How long a lease lasts; a turn takes far less.
const LEASE: StdDuration = StdDuration::from_secs(60);
/// Subscriptions looked at per round.
const DUE_PER_ROUND: u32 = 50;

/// One post: its body, how many events it carries and where it ends.
#[derive(Debug)]
struct Post {
    body: String,
    events: usize,
    end: Position,
}

/// The body of a post carrying `events` (already in JSON).
fn body(subscription: &str, events: &[serde_json::Value]) -> String {
    serde_json::json!({ "subscription": subscription, "events": events }).to_string()
}

/// The post of the events in `rows` (in log order) that `kinds` keeps: at
/// most [`MAX_EVENTS`] and [`MAX_BODY`] bytes, ending at the last row it
/// took (rows filtered out count as taken); `None` when `rows` keeps nothing.
/// A single event too big for a post goes without its score.
fn post(name: &str, kinds: &HashSet<i32>, rows: &[(Position, Vec<u8>)]) -> Option<Post> {
    let mut events: Vec<serde_json::Value> = Vec::new();
    let mut size = body(name, &[]).len();
    let mut end = None;
    for (p, bytes) in rows {
        let Ok(mut e) = ScoreChangeEvent::decode(bytes.as_slice()) else {
            tracing::error!(seq = p.seq, "undecodable score change skipped");
            end = Some(*p);
            continue;
        };
        e.resume_token = p.token();
        let Some(e) = filtered(e, kinds) else {
            end = Some(*p);
            continue;
        };
        let mut json = rapport_kit::audit::proto_json("rapport.v1.ScoreChangeEvent", &e);
        let mut len = json.to_string().len() + 1;
        if events.is_empty() && size + len > MAX_BODY {
            if let Some(o) = json.as_object_mut() {
                o.remove("score");
            }
            len = json.to_string().len() + 1;
        }
        if events.len() == MAX_EVENTS || (!events.is_empty() && size + len > MAX_BODY) {
            break;
        }
        size += len;
        events.push(json);
        end = Some(*p);
    }
    let end = end?;
    Some(Post {
        body: if events.is_empty() {
            String::new()
        } else {
            body(name, &events)
        },
        events: events.len(),
        end,
    })
}

/// The wait after a failed hand-over when `failures` had failed in a row
/// before it: doubling from 2 s, at most 5 minutes.
fn backoff(failures: u32) -> Duration {
    Duration::seconds(
        2i64.saturating_pow(failures.saturating_add(1).min(9))
            .min(300),
    )
}

impl Subscriptions {
    /// One round: every due subscription not leased elsewhere gets a turn.
    pub async fn deliver_due(&self) -> Result<(), Error> {
        let now = Utc::now();
        let due = self.repo.due(now, DUE_PER_ROUND).await.map_err(st())?;
        for (tenant, name) in due {
            let now = Utc::now();
            let until = now + Duration::from_std(LEASE).unwrap_or_default();
            let claimed = self
                .repo
                .claim(tenant, &name, self.owner, now, until)
                .await
                .map_err(st())?;
            if let Some(s) = claimed {
                self.turn(s).await?;
            }
        }
        Ok(())
    }

    /// Hands over up to [`POSTS_PER_TURN`] posts of one leased subscription,
    /// then lets it go: due again at once when there may be more, after the
    /// poll when it caught up, after a backoff when a hand-over failed.
    async fn turn(&self, mut s: Stored) -> Result<(), Error> {
        let kinds: HashSet<i32> = s.wanted.kinds.iter().copied().collect();
        let mut more = false;
        for _ in 0..POSTS_PER_TURN {
            let horizon = self.log.horizon(s.tenant).await.map_err(st())?;
            if s.at < horizon {
                tracing::warn!(tenant = %s.tenant, subscription = %s.wanted.name,
                    "the retention window overtook delivery; events were skipped");
                if !self
                    .repo
                    .skip_gap(&s, self.owner, horizon, Utc::now())
                    .await
                    .map_err(st())?
                {
                    return Ok(());
                }
                s.at = horizon;
                s.batch = None;
            }
            let rows = self
                .log
                .read(s.tenant, s.at, MAX_EVENTS as u32 * 2)
                .await
                .map_err(st())?;
            // A post recorded before a stop is made again from the same
            // events (they never change below the read horizon).
            let rows: Vec<_> = match s.batch {
                Some(end) => rows.into_iter().filter(|(p, _)| *p <= end).collect(),
                None => rows,
            };
            let full = rows.len() == MAX_EVENTS * 2;
            let Some(mut p) = post(&s.wanted.name, &kinds, &rows) else {
                // Caught up.
                more = false;
                break;
            };
            if let Some(end) = s.batch {
                p.end = end;
            }
            if p.events == 0 {
                // Only events filtered out: nothing to hand over.
                if !self
                    .repo
                    .advance(&s, self.owner, p.end, None)
                    .await
                    .map_err(st())?
                {
                    return Ok(());
                }
                s.at = p.end;
                more = full;
                if more {
                    continue;
                }
                break;
            }
            if s.batch.is_none()
                && !self
                    .repo
                    .begin_batch(&s, self.owner, p.end)
                    .await
                    .map_err(st())?
            {
                return Ok(());
            }
            s.batch = Some(p.end);
            match self.hand_over(&s, &p).await {
                Ok(created) => {
                    // A post the notifications service already had (handed
                    // over before a stop) is not counted twice.
                    let (events, posts) = if created {
                        (p.events as i64, 1)
                    } else {
                        (0, 0)
                    };
                    let handed = Some((events, posts, Utc::now()));
                    if !self
                        .repo
                        .advance(&s, self.owner, p.end, handed)
                        .await
                        .map_err(st())?
                    {
                        return Ok(());
                    }
                    s.at = p.end;
                    s.batch = None;
                    more = true;
                }
                Err(why) => {
                    let now = Utc::now();
                    let failures = s.failures as u32;
                    tracing::warn!(tenant = %s.tenant, subscription = %s.wanted.name,
                        error = %why, "score change post not handed over; retrying later");
                    self.repo
                        .release(&s, self.owner, now + backoff(failures), Some((&why, now)))
                        .await
                        .map_err(st())?;
                    return Ok(());
                }
            }
        }
        let next = if more {
            Utc::now()
        } else {
            Utc::now() + Duration::from_std(self.poll).unwrap_or_default()
        };
        self.repo
            .release(&s, self.owner, next, None)
            .await
            .map_err(st())?;
        Ok(())
    }

    /// Hands one post to the notifications service: whether it was new to
    /// it, or the reason it was not accepted.
    async fn hand_over(&self, s: &Stored, p: &Post) -> Result<bool, String> {
        let request = SendNotificationRequest {
            dedupe_key: dedupe_key(s.id, s.at),
            channel: Channel::Webhook as i32,
            integration_endpoint: s.wanted.endpoint.clone(),
            purpose: Purpose::Transactional as i32,
            subject: format!("score changes for subscription {}", s.wanted.name),
            body: p.body.clone(),
            origin: format!("subscription:{}", s.wanted.name),
            ..SendNotificationRequest::default()
        };
        let request = self.rules.internal.request(s.tenant, None, request);
        match self
            .rules
            .notifications
            .clone()
            .send_notification(request)
            .await
        {
            Ok(r) => Ok(r.into_inner().created),
            Err(status) if transient(&status) => Err(format!(
                "the notifications service is unavailable: {}",
                status.message()
            )),
            Err(status) => Err(format!("{:?}: {}", status.code(), status.message())),
        }
    }
}

/// The dedupe key of the post that starts after `at`.
pub fn dedupe_key(subscription: Uuid, at: Position) -> String {
    format!("subscription:{subscription}:{}:{}", at.xid, at.seq)
}

#[cfg(test)]
mod tests {
    use rapport_proto::v1::ScoreChangeKind;

    use super::*;

    #[test]
    fn backoff_doubles_from_two_seconds_to_five_minutes() {
        let waits: Vec<i64> = (0..12).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300, 300]);
        assert_eq!(backoff(u32::MAX).num_seconds(), 300);
    }

    fn row(seq: i64, customer: &str, kinds: &[ScoreChangeKind]) -> (Position, Vec<u8>) {
        let e = ScoreChangeEvent {
            customer_id: customer.into(),
            changes: kinds
                .iter()
                .map(|k| rapport_proto::v1::ScoreChange {
                    kind: *k as i32,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        (Position { xid: 0, seq }, e.encode_to_vec())
    }

    #[test]
    fn a_post_takes_at_most_a_hundred_events_and_passes_those_filtered_out() {
        let rows: Vec<_> = (1..=150)
            .map(|i| {
                let kind = if i % 2 == 0 {
                    ScoreChangeKind::TierChanged
                } else {
                    ScoreChangeKind::LifecycleEntered
                };
                row(i, &format!("c{i}"), &[kind])
            })
            .collect();
        let all = post("s", &HashSet::new(), &rows).unwrap();
        assert_eq!((all.events, all.end.seq), (100, 100));
        let tiers: HashSet<i32> = [ScoreChangeKind::TierChanged as i32].into();
        let some = post("s", &tiers, &rows).unwrap();
        // 75 tier changes in 150 rows: all of them, ending at the last row
        // (filtered-out rows count as passed).
        assert_eq!((some.events, some.end.seq), (75, 150));
        let body: serde_json::Value = serde_json::from_str(&some.body).unwrap();
        assert_eq!(body["subscription"], "s");
        assert_eq!(body["events"].as_array().unwrap().len(), 75);
        let none: HashSet<i32> = [ScoreChangeKind::PAliveCrossed as i32].into();
        let skipped = post("s", &none, &rows).unwrap();
        assert_eq!((skipped.events, skipped.end.seq), (0, 150));
        assert!(skipped.body.is_empty());
        assert!(post("s", &HashSet::new(), &[]).is_none());
    }
}
