//! `rapport changes …`: the score change feed. `watch` streams it as JSON
//! lines (one event per line, in the proto3 JSON mapping, each with its
//! resume token); `subscribe`, `subscriptions`, `show` and `unsubscribe`
//! manage the subscriptions that post it to an integration endpoint.

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use rapport_kit::domain::timestamp_to_chrono;
use rapport_proto::v1::{
    DeleteScoreChangeSubscriptionRequest, GetScoreChangeSubscriptionRequest,
    ListScoreChangeSubscriptionsRequest, PutScoreChangeSubscriptionRequest, ScoreChangeKind,
    ScoreChangeSubscription, WatchScoreChangesRequest, WatchStart,
};

use crate::client::{Clients, answer};

/// A kind of change, as the command line names it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    /// The service tier changed.
    TierChanged,
    /// The RFM segment changed.
    RfmSegmentChanged,
    /// A lifecycle segment was entered.
    LifecycleEntered,
    /// A lifecycle segment was left.
    LifecycleLeft,
    /// P(alive) crossed 0.2, 0.5 or 0.8.
    PAliveCrossed,
    /// Lifetime value moved by 20% or more.
    LifetimeValueMoved,
}

impl From<Kind> for ScoreChangeKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::TierChanged => ScoreChangeKind::TierChanged,
            Kind::RfmSegmentChanged => ScoreChangeKind::RfmSegmentChanged,
            Kind::LifecycleEntered => ScoreChangeKind::LifecycleEntered,
            Kind::LifecycleLeft => ScoreChangeKind::LifecycleLeft,
            Kind::PAliveCrossed => ScoreChangeKind::PAliveCrossed,
            Kind::LifetimeValueMoved => ScoreChangeKind::LifetimeValueMoved,
        }
    }
}

fn kinds(kinds: &[Kind]) -> Vec<i32> {
    kinds
        .iter()
        .map(|k| ScoreChangeKind::from(*k) as i32)
        .collect()
}

/// What `rapport changes` does.
#[derive(Debug, Subcommand)]
pub enum ChangesCommand {
    /// Streams the tenant's score changes as JSON lines until interrupted.
    /// Each event carries `resumeToken`: pass the last one to `--after` to
    /// go on where a watch stopped, with nothing missed or repeated.
    Watch {
        /// Resume after this token.
        #[arg(long, conflicts_with = "oldest")]
        after: Option<String>,
        /// Start at the oldest event retained instead of now.
        #[arg(long)]
        oldest: bool,
        /// Only these kinds of change (comma-separated); all when absent.
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<Kind>,
    },
    /// Posts the tenant's score changes to a registered integration
    /// endpoint (see `rapport endpoints put`), signed with its secret;
    /// changes the subscription of that name if it exists.
    Subscribe {
        /// The subscription's name: 1-64 of a-z, 0-9, '-' and '_'.
        name: String,
        /// The integration endpoint to post to.
        #[arg(long)]
        endpoint: String,
        /// Only these kinds of change (comma-separated); all when absent.
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<Kind>,
        /// For people.
        #[arg(long, default_value = "")]
        description: String,
        /// A new subscription starts at the oldest event retained instead
        /// of now.
        #[arg(long)]
        oldest: bool,
    },
    /// Every subscription, with how far delivery has got.
    Subscriptions,
    /// One subscription in full, as JSON.
    Show {
        /// Its name.
        name: String,
    },
    /// Stops a subscription; posts already handed over are still sent.
    Unsubscribe {
        /// Its name.
        name: String,
    },
}

/// One line about a subscription.
fn line(s: &ScoreChangeSubscription) -> String {
    let kinds: Vec<&str> = s
        .kinds
        .iter()
        .filter_map(|k| ScoreChangeKind::try_from(*k).ok())
        .map(|k| k.as_str_name())
        .collect();
    let last = s
        .last_post_at
        .as_ref()
        .and_then(|t| timestamp_to_chrono(t).ok())
        .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339());
    let mut out = format!(
        "{:<24} -> {:<20} {} events in {} posts, last {last}; kinds {}",
        s.name,
        s.endpoint,
        s.events_delivered,
        s.posts,
        if kinds.is_empty() {
            "all".to_owned()
        } else {
            kinds.join(",")
        }
    );
    if !s.last_error.is_empty() {
        out.push_str(&format!("; failing: {}", s.last_error));
    }
    if s.gap_at.is_some() {
        out.push_str("; events were lost to retention");
    }
    out
}

/// Runs one `rapport changes` command.
pub async fn run(clients: &mut Clients, command: ChangesCommand) -> anyhow::Result<()> {
    let c = &mut clients.score_changes;
    match command {
        ChangesCommand::Watch {
            after,
            oldest,
            kinds: only,
        } => {
            let request = WatchScoreChangesRequest {
                resume_token: after.unwrap_or_default(),
                start: if oldest {
                    WatchStart::OldestRetained
                } else {
                    WatchStart::Now
                } as i32,
                kinds: kinds(&only),
            };
            let mut stream = answer(c.watch_score_changes(request).await)?;
            use std::io::Write as _;
            while let Some(r) = stream.message().await.map_err(crate::client::describe)? {
                let mut out = std::io::stdout().lock();
                let mut lines = String::new();
                for e in r.events {
                    let json = rapport_kit::audit::proto_json("rapport.v1.ScoreChangeEvent", &e);
                    lines.push_str(&format!("{json}\n"));
                }
                match out.write_all(lines.as_bytes()).and_then(|()| out.flush()) {
                    // The reader went (`| head`): done, not an error.
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                    other => other?,
                }
            }
        }
        ChangesCommand::Subscribe {
            name,
            endpoint,
            kinds: only,
            description,
            oldest,
        } => {
            let r = answer(
                c.put_score_change_subscription(PutScoreChangeSubscriptionRequest {
                    subscription: Some(ScoreChangeSubscription {
                        name,
                        endpoint,
                        kinds: kinds(&only),
                        description,
                        ..Default::default()
                    }),
                    start: if oldest {
                        WatchStart::OldestRetained
                    } else {
                        WatchStart::Now
                    } as i32,
                })
                .await,
            )?;
            let s = r.subscription.context("no subscription in the answer")?;
            let what = if r.created {
                "subscribed"
            } else if r.changed {
                "changed"
            } else {
                "unchanged"
            };
            println!("{what}: {}", line(&s));
        }
        ChangesCommand::Subscriptions => {
            let r = answer(
                c.list_score_change_subscriptions(ListScoreChangeSubscriptionsRequest {})
                    .await,
            )?;
            for s in &r.subscriptions {
                println!("{}", line(s));
            }
        }
        ChangesCommand::Show { name } => {
            let r = answer(
                c.get_score_change_subscription(GetScoreChangeSubscriptionRequest { name })
                    .await,
            )?;
            let s = r.subscription.context("no subscription in the answer")?;
            let json = rapport_kit::audit::proto_json("rapport.v1.ScoreChangeSubscription", &s);
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        ChangesCommand::Unsubscribe { name } => {
            let r = answer(
                c.delete_score_change_subscription(DeleteScoreChangeSubscriptionRequest {
                    name: name.clone(),
                })
                .await,
            )?;
            if r.deleted {
                println!("unsubscribed: {name}");
            } else {
                println!("no subscription {name}: nothing to delete");
            }
        }
    }
    Ok(())
}
