//! The load generator: closed loop (a fixed number of calls in flight, for
//! peak throughput) and open loop (a fixed arrival rate, for latency at a
//! given load), latencies in HDR histograms in microseconds.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures::future::BoxFuture;
use hdrhistogram::Histogram;
use tokio::time::Instant;

mod outcome;

use outcome::Tally;
pub use outcome::{Latency, Outcome};

/// One call of a scenario; `n` numbers the calls of a run, so a call can
/// pick its connection and its customer.
pub type Call = Arc<dyn Fn(u64) -> BoxFuture<'static, Result<(), tonic::Status>> + Send + Sync>;

/// Latencies from 1 µs to 10 minutes at three significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Microseconds since `t`, as the histograms take them (at least 1, at
/// most ten minutes).
pub fn micros_since(t: std::time::Instant) -> u64 {
    (t.elapsed().as_micros() as u64).clamp(1, 600_000_000)
}

fn record(h: &Mutex<Histogram<u64>>, took: Duration) {
    let us = (took.as_micros() as u64).clamp(1, 600_000_000);
    if let Ok(mut h) = h.lock() {
        h.saturating_record(us);
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
/// server does, and waits for the calls to finish. Latency is measured from
/// the moment a call was due, not from when it was sent, so a stalled server
/// cannot hide its queue (coordinated omission). At most `max_outstanding`
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
mod tests;
