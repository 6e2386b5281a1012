//! What the registry answered about keys, kept per process: a key's tenant
//! for a while, an unknown key for a shorter while (so a flood of bogus keys
//! costs one lookup each, not one per request), both bounded, and both
//! dropped as soon as a change to the key is heard of.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use uuid::Uuid;

use super::Tenant;

/// How long a key's tenant is trusted without hearing of a change: the
/// backstop for a change notice lost while the listener reconnects.
const KNOWN_TTL: Duration = Duration::from_secs(30);
/// How long an unknown key is refused without asking again.
pub(super) const UNKNOWN_TTL: Duration = Duration::from_secs(5);
/// Most entries of each map.
pub(super) const MAX_ENTRIES: usize = 10_000;

/// A cached answer for a key: its tenant and the key's id, or known to be
/// unknown.
pub(super) type Answer = Option<(Arc<Tenant>, Uuid)>;

#[derive(Default)]
struct State {
    known: HashMap<String, ((Arc<Tenant>, Uuid), Instant)>,
    unknown: HashMap<String, Instant>,
    tenants: HashMap<Uuid, (Arc<Tenant>, Instant)>,
    /// Bumped by every change heard of, so an answer read from the registry
    /// before the change is not cached after it.
    generation: u64,
}

/// The cache; see the module docs.
pub(super) struct KeyCache {
    state: Mutex<State>,
    max_entries: usize,
}

impl KeyCache {
    /// A cache of at most `max_entries` keys of each kind.
    pub(super) fn new(max_entries: usize) -> KeyCache {
        KeyCache {
            state: Mutex::default(),
            max_entries,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached answer for a key hash, if fresh.
    pub(super) fn get(&self, hash: &str) -> Option<Answer> {
        let state = self.state();
        if let Some((owner, at)) = state.known.get(hash)
            && at.elapsed() < KNOWN_TTL
        {
            return Some(Some(owner.clone()));
        }
        match state.unknown.get(hash) {
            Some(at) if at.elapsed() < UNKNOWN_TTL => Some(None),
            _ => None,
        }
    }

    /// The generation to pass to [`KeyCache::put`] for a lookup starting now.
    pub(super) fn generation(&self) -> u64 {
        self.state().generation
    }

    /// Caches `answer`, unless a change was heard of since `generation`.
    pub(super) fn put(&self, generation: u64, hash: String, answer: Answer) {
        let mut state = self.state();
        if state.generation != generation {
            return;
        }
        let now = Instant::now();
        match answer {
            Some(owner) => {
                if make_room(&mut state.known, self.max_entries, |(_, at)| {
                    at.elapsed() < KNOWN_TTL
                }) {
                    state.known.insert(hash, (owner, now));
                }
            }
            None => {
                if make_room(&mut state.unknown, self.max_entries, |at| {
                    at.elapsed() < UNKNOWN_TTL
                }) {
                    state.unknown.insert(hash, now);
                }
            }
        }
    }

    /// Drops what is cached about one key (it was created or revoked).
    pub(super) fn forget(&self, hash: &str) {
        let mut state = self.state();
        state.generation += 1;
        state.known.remove(hash);
        state.unknown.remove(hash);
    }

    /// Drops every cached key (changes may have been missed).
    pub(super) fn forget_all(&self) {
        let mut state = self.state();
        state.generation += 1;
        state.known.clear();
        state.unknown.clear();
    }

    /// How many unknown keys are cached.
    pub(super) fn unknown_len(&self) -> usize {
        self.state().unknown.len()
    }

    /// A cached tenant by id, if fresh. Tenants are never deleted; a rename
    /// drops the tenant here in the process that made it, and other
    /// processes see the new name once the entry ages out.
    pub(super) fn tenant(&self, id: Uuid) -> Option<Arc<Tenant>> {
        let state = self.state();
        state
            .tenants
            .get(&id)
            .filter(|(_, at)| at.elapsed() < KNOWN_TTL)
            .map(|(t, _)| t.clone())
    }

    /// Drops a cached tenant (it was renamed, disabled or enabled).
    pub(super) fn forget_tenant(&self, id: Uuid) {
        self.state().tenants.remove(&id);
    }

    /// Caches a tenant by id.
    pub(super) fn put_tenant(&self, tenant: Arc<Tenant>) {
        let mut state = self.state();
        if make_room(&mut state.tenants, self.max_entries, |(_, at)| {
            at.elapsed() < KNOWN_TTL
        }) {
            state.tenants.insert(tenant.id, (tenant, Instant::now()));
        }
    }
}

/// Whether `map` has room for one more entry, after dropping stale ones if it
/// was full. A full map of fresh entries takes no more: the bound holds
/// whatever a caller sends.
fn make_room<K, V>(map: &mut HashMap<K, V>, max: usize, fresh: impl Fn(&V) -> bool) -> bool {
    if map.len() >= max {
        map.retain(|_, v| fresh(v));
    }
    map.len() < max
}
