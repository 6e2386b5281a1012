//! The ingestion service's metrics: the outbox relay's lag, as rows waiting
//! and the age of the oldest, sampled from the database in the background.

use std::sync::LazyLock;

use rapport_kit::{
    Db,
    metrics::{Backlog, backlog_sampler},
    server::Sampler,
};

static OUTBOX: LazyLock<Backlog> = LazyLock::new(|| {
    Backlog::new(
        "rapport_ingestion_outbox_rows",
        "Changes waiting in the outbox for the relay to deliver to scoring, as last sampled.",
        "rapport_ingestion_outbox_oldest_age_seconds",
        "How long the oldest change waiting in the outbox has waited (0 when none waits), as last sampled.",
    )
});

/// Samples the outbox backlog of `db`.
pub(crate) fn outbox_sampler(db: Db) -> Sampler {
    backlog_sampler(&OUTBOX, "the outbox", move || {
        let db = db.clone();
        async move { crate::repo::backlog(&db).await }
    })
}
