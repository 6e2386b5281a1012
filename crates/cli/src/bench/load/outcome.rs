//! What a load run measured: calls that answered and failed, the rate, and
//! the latency percentiles.

use std::{
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use hdrhistogram::Histogram;
use serde::Serialize;

/// What a run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    /// Calls that answered OK.
    pub ok: u64,
    /// Calls that failed, and the first failure's code.
    pub errors: u64,
    /// The first error, for the report.
    pub first_error: Option<String>,
    /// Calls the open loop could not even start because too many were
    /// outstanding: the offered rate was beyond the server.
    pub not_sent: u64,
    /// Wall time of the run.
    pub seconds: f64,
    /// OK calls per second.
    pub per_second: f64,
    /// The latency distribution.
    pub latency: Latency,
}

/// Percentiles in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
    /// Largest.
    pub max_us: u64,
    /// Mean.
    pub mean_us: f64,
}

impl Latency {
    /// The percentiles of `h`.
    pub fn of(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        Latency {
            p50_us: h.value_at_quantile(0.50),
            p90_us: h.value_at_quantile(0.90),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
            mean_us: h.mean(),
        }
    }
}

/// Counts of a run's calls, shared by the tasks that make them.
#[derive(Default)]
pub(super) struct Tally {
    ok: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Tally {
    /// Counts one call's result.
    pub(super) fn count(&self, result: &Result<(), tonic::Status>) {
        match result {
            Ok(()) => {
                self.ok.fetch_add(1, Ordering::Relaxed);
            }
            Err(status) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = self.first_error.lock()
                    && first.is_none()
                {
                    *first = Some(format!("{:?}: {}", status.code(), status.message()));
                }
            }
        }
    }

    /// What the run measured, once its calls are done.
    pub(super) fn outcome(
        &self,
        not_sent: u64,
        took: Duration,
        h: &Mutex<Histogram<u64>>,
    ) -> Outcome {
        let ok = self.ok.load(Ordering::Relaxed);
        let seconds = took.as_secs_f64();
        let latency = h.lock().map(|h| Latency::of(&h)).unwrap_or_default();
        Outcome {
            ok,
            errors: self.errors.load(Ordering::Relaxed),
            first_error: self.first_error.lock().ok().and_then(|f| f.clone()),
            not_sent,
            seconds,
            per_second: if seconds > 0.0 {
                ok as f64 / seconds
            } else {
                0.0
            },
            latency,
        }
    }
}

impl Outcome {
    /// Fails the scenario if any call failed: a figure over failing calls
    /// would measure the failure.
    pub fn ensure_clean(&self, what: &str) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.errors == 0,
            "{what}: {} of {} calls failed (first: {})",
            self.errors,
            self.errors + self.ok,
            self.first_error.as_deref().unwrap_or("-")
        );
        Ok(())
    }
}
