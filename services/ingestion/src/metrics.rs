//! The ingestion service's metrics: the outbox relay's lag, as rows waiting
//! and the age of the oldest, sampled from the database in the background.

use std::sync::{Arc, LazyLock};

use rapport_kit::{
    Db,
    metrics::{Gauge, meter},
    server::Sampler,
};

static ROWS: LazyLock<Gauge<u64>> = LazyLock::new(|| {
    meter()
        .u64_gauge("rapport_ingestion_outbox_rows")
        .with_description(
            "Changes waiting in the outbox for the relay to deliver to scoring, as last sampled.",
        )
        .build()
});

static AGE: LazyLock<Gauge<f64>> = LazyLock::new(|| {
    meter()
        .f64_gauge("rapport_ingestion_outbox_oldest_age_seconds")
        .with_description("How long the oldest change waiting in the outbox has waited (0 when none waits), as last sampled.")
        .with_unit("s")
        .build()
});

/// Samples the outbox backlog of `db`.
pub(crate) fn outbox_sampler(db: Db) -> Sampler {
    Arc::new(move || {
        let db = db.clone();
        Box::pin(async move {
            match crate::repo::backlog(&db).await {
                Ok((rows, oldest)) => {
                    let age = oldest.map_or(0.0, |t| {
                        (chrono::Utc::now() - t).num_milliseconds().max(0) as f64 / 1e3
                    });
                    ROWS.record(rows, &[]);
                    AGE.record(age, &[]);
                }
                Err(e) => tracing::warn!(error = %e, "sampling the outbox failed"),
            }
        })
    })
}
