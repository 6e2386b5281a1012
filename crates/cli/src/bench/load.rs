//! The load generator: closed loop (a fixed number of calls in flight, for
//! peak throughput) and open loop (a fixed arrival rate, for latency at a
//! given load). Open-loop latency is measured from the moment a call was due,
//! not from when it was sent, so a stalled server cannot hide its queue
//! (coordinated omission). Latencies go into HDR histograms in microseconds.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::time::Instant;

use futures::future::BoxFuture;
use hdrhistogram::Histogram;
use serde::Serialize;

/// One call of a scenario; `n` numbers the calls of a run, so a call can
/// pick its connection and its customer.
pub type Call = Arc<dyn Fn(u64) -> BoxFuture<'static, Result<(), tonic::Status>> + Send + Sync>;

/// Latencies from 1 µs to 10 minutes at three significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

fn record(h: &Mutex<Histogram<u64>>, took: Duration) {
    let us = (took.as_micros() as u64).clamp(1, 600_000_000);
    if let Ok(mut h) = h.lock() {
        h.saturating_record(us);
    }
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
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

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Tally {
    fn count(&self, result: &Result<(), tonic::Status>) {
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

    fn outcome(&self, not_sent: u64, took: Duration, h: &Mutex<Histogram<u64>>) -> Outcome {
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

/// Runs `call` with `in_flight` calls outstanding at all times for
/// `duration`, after `warmup` of the same whose figures are dropped.
pub async fn closed_loop(
    call: Call,
    in_flight: usize,
    warmup: Duration,
    duration: Duration,
) -> Outcome {
    if !warmup.is_zero() {
        run_closed(call.clone(), in_flight, warmup).await;
    }
    run_closed(call, in_flight, duration).await
}

async fn run_closed(call: Call, in_flight: usize, duration: Duration) -> Outcome {
    let tally = Arc::new(Tally::default());
    let hist = Arc::new(Mutex::new(histogram()));
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let workers: Vec<_> = (0..in_flight.max(1))
        .map(|_| {
            let (call, tally, hist, next) =
                (call.clone(), tally.clone(), hist.clone(), next.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let t0 = Instant::now();
                    let result = call(n).await;
                    record(&hist, t0.elapsed());
                    tally.count(&result);
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    tally.outcome(0, start.elapsed(), &hist)
}

/// Starts `call` at a fixed `rate` per second for `duration`, whatever the
/// server does, and waits for the calls to finish. At most `max_outstanding`
/// calls may be pending; a call due beyond that is counted as not sent (and
/// the rate reported as unsustainable) instead of growing memory.
pub async fn open_loop(call: Call, rate: f64, duration: Duration, max_outstanding: u64) -> Outcome {
    let tally = Arc::new(Tally::default());
    let hist = Arc::new(Mutex::new(histogram()));
    let outstanding = Arc::new(AtomicU64::new(0));
    let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let total = (duration.as_secs_f64() * rate).round().max(1.0) as u64;
    let start = Instant::now();
    let mut not_sent = 0;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..total {
        let due = start + period.mul_f64(n as f64);
        tokio::time::sleep_until(due).await;
        if outstanding.load(Ordering::Relaxed) >= max_outstanding {
            not_sent += 1;
            continue;
        }
        outstanding.fetch_add(1, Ordering::Relaxed);
        let (call, tally, hist, outstanding) = (
            call.clone(),
            tally.clone(),
            hist.clone(),
            outstanding.clone(),
        );
        tasks.spawn(async move {
            let result = call(n).await;
            record(&hist, due.elapsed());
            tally.count(&result);
            outstanding.fetch_sub(1, Ordering::Relaxed);
        });
        // Reap finished calls as we go so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    tally.outcome(not_sent, start.elapsed(), &hist)
}

/// Runs `call` one at a time `count` times (concurrency 1), for latency
/// without any queueing.
pub async fn sequential(call: Call, count: u64) -> Outcome {
    let tally = Tally::default();
    let hist = Mutex::new(histogram());
    let start = Instant::now();
    for n in 0..count {
        let t0 = Instant::now();
        let result = call(n).await;
        record(&hist, t0.elapsed());
        tally.count(&result);
    }
    tally.outcome(0, start.elapsed(), &hist)
}

/// The median of `values` (the lower middle for an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    values[(values.len() - 1) / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleeper(ms: u64) -> Call {
        Arc::new(move |_| {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(())
            })
        })
    }

    #[tokio::test(start_paused = true)]
    async fn open_loop_counts_queueing_a_closed_loop_would_hide() {
        // One call at a time can finish 10 per second; offered 50 per
        // second, an open loop sees calls waiting ever longer, because each
        // is timed from when it was due. A mutex makes the server serial;
        // the clock is tokio's paused one, so the figures are exact.
        let gate = Arc::new(tokio::sync::Mutex::new(()));
        let serial: Call = Arc::new(move |_| {
            let gate = gate.clone();
            Box::pin(async move {
                let _held = gate.lock().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(())
            })
        });
        let open = open_loop(serial.clone(), 50.0, Duration::from_millis(400), 1_000).await;
        assert_eq!(open.ok, 20);
        // The last of 20 serial 100 ms calls finishes about 2 s after the
        // run began, about 1.6 s after it was due.
        assert!(open.latency.max_us > 1_500_000, "{:?}", open.latency);
        let closed = sequential(serial, 3).await;
        assert!(closed.latency.max_us < 110_000, "{:?}", closed.latency);
    }

    #[tokio::test(start_paused = true)]
    async fn open_loop_refuses_to_queue_past_its_bound() {
        let open = open_loop(sleeper(200), 100.0, Duration::from_millis(100), 3).await;
        assert_eq!(open.ok, 3);
        assert_eq!(open.not_sent, 7);
    }

    #[tokio::test]
    async fn errors_are_counted_with_the_first_reason() {
        let failing: Call = Arc::new(|n| {
            Box::pin(async move {
                if n % 2 == 0 {
                    Err(tonic::Status::unavailable("down"))
                } else {
                    Ok(())
                }
            })
        });
        let o = sequential(failing, 4).await;
        assert_eq!((o.ok, o.errors), (2, 2));
        assert!(o.first_error.unwrap().contains("down"));
    }

    #[test]
    fn median_of_rounds() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0]), 1.0);
        assert_eq!(median(vec![]), 0.0);
    }
}
