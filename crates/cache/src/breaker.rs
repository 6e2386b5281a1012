//! A minimal circuit breaker: after a failure, calls are refused at once for a cool-down, so
//! a dead dependency costs the hot path nothing but an atomic load.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// opens it for another cool-down.
#[derive(Debug)]
pub(crate) struct Breaker {
    origin: Instant,
    cooldown: Duration,
    /// Milliseconds after `origin` until which calls are refused; 0 = closed.
    open_until_ms: AtomicU64,
}

impl Breaker {
    pub(crate) fn new(cooldown: Duration) -> Self {
        Breaker {
            origin: Instant::now(),
            cooldown,
            open_until_ms: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    /// True while calls should be refused without trying.
    pub(crate) fn is_open(&self) -> bool {
        self.now_ms() < self.open_until_ms.load(Ordering::Relaxed)
    }

    /// Records a failure: refuse calls for the cool-down. Returns true when the
    /// breaker was closed before (so the caller logs once per outage window,
    /// not once per request).
    pub(crate) fn trip(&self) -> bool {
        let now = self.now_ms();
        let until = now + self.cooldown.as_millis() as u64;
        let before = self.open_until_ms.swap(until, Ordering::Relaxed);
        before <= now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_a_failure_and_closes_after_the_cooldown() {
        let b = Breaker::new(Duration::from_millis(30));
        assert!(!b.is_open());
        assert!(b.trip());
        assert!(b.is_open());
        assert!(
            !b.trip(),
            "a second failure in the window is not a new outage"
        );
        std::thread::sleep(Duration::from_millis(80));
        assert!(!b.is_open());
    }
}
