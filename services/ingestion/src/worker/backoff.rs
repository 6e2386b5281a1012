//! Each tenant's back-off after a failed delivery, so one tenant's trouble
//! (scoring refusing its calls, or timing out on them) slows only that
//! tenant: its rows are set aside until its next try while the others go on.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use uuid::Uuid;

use super::MAX_BACKOFF;

/// The pause after a tenant's first failure; it doubles with each further
/// one, up to [`MAX_BACKOFF`].
const FIRST_PAUSE: Duration = Duration::from_millis(200);

/// The tenants of this process's relay that are backing off: failures in a
/// row and when the next try is due. A tenant leaves it on its next success,
/// so it holds only tenants whose deliveries are failing.
#[derive(Debug, Clone, Default)]
pub(crate) struct TenantBackoff(Arc<Mutex<HashMap<Uuid, (u32, Instant)>>>);

impl TenantBackoff {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (u32, Instant)>> {
        // A panic elsewhere never leaves the map half-updated.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `tenant`'s next try is still to come at `now`.
    pub fn waiting(&self, tenant: Uuid, now: Instant) -> bool {
        self.lock().get(&tenant).is_some_and(|(_, due)| now < *due)
    }

    /// Records a failure of `tenant` at `now`; its failures in a row.
    pub fn failed(&self, tenant: Uuid, now: Instant) -> u32 {
        let mut map = self.lock();
        let entry = map.entry(tenant).or_insert((0, now));
        entry.0 += 1;
        entry.1 = now + pause(entry.0);
        entry.0
    }

    /// Records a success of `tenant`: its back-off ends.
    pub fn succeeded(&self, tenant: Uuid) {
        self.lock().remove(&tenant);
    }

    /// How long `tenant`'s rows wait from now before they are tried again.
    pub fn wait(&self, tenant: Uuid) -> Duration {
        let due = self.lock().get(&tenant).map(|(_, due)| *due);
        due.map_or(Duration::ZERO, |d| {
            d.saturating_duration_since(Instant::now())
        })
    }
}

/// The pause after `failures` failures in a row.
fn pause(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    (FIRST_PAUSE * 2u32.pow(doublings)).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tenant_backs_off_alone_and_recovers() {
        let b = TenantBackoff::default();
        let (a, other) = (Uuid::new_v4(), Uuid::new_v4());
        let now = Instant::now();
        assert!(!b.waiting(a, now));
        assert_eq!(b.failed(a, now), 1);
        assert!(b.waiting(a, now));
        assert!(!b.waiting(a, now + FIRST_PAUSE));
        assert!(!b.waiting(other, now), "another tenant goes on");
        assert_eq!(b.failed(a, now), 2);
        assert!(b.waiting(a, now + FIRST_PAUSE));
        b.succeeded(a);
        assert!(!b.waiting(a, now));
        assert_eq!(b.wait(a), Duration::ZERO);
        assert_eq!(pause(1), FIRST_PAUSE);
        assert_eq!(pause(40), MAX_BACKOFF);
    }
}
