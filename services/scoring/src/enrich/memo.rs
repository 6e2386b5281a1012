//! Enriched fields remembered per score, so a hot customer's models run once
//! a day rather than on every read. The key holds everything the fields
//! depend on: the score's version, the tenant state's generation, and the
//! day, month and recency the time-dependent measures move with.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use rapport_kit::domain::CurrencyCode;
use rapport_proto::v1::{BehaviourFlag, Explanation, Rfm, Score, ValueScores};
use uuid::Uuid;

use super::enrich;
use crate::{
    periods::{day_number, month_index},
    state::TenantState,
};

/// Entries kept; a few KiB each (lifetime value by month, explanations), so
/// a few MiB at most. When full the map is emptied: hot customers come back
/// at once, cold ones were not worth keeping.
const MAX_ENTRIES: usize = 2_048;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    tenant: Uuid,
    customer: Uuid,
    version: u64,
    generation: u64,
    day: i64,
    month: i32,
    recency_days: u32,
}

#[derive(Debug)]
struct Fields {
    rfm: Option<Rfm>,
    value: Option<ValueScores>,
    tier: String,
    behaviour_flags: Vec<BehaviourFlag>,
    explanations: Vec<Explanation>,
}

/// The remembered fields.
#[derive(Default)]
pub struct Memo {
    entries: Mutex<HashMap<Key, Arc<Fields>>>,
}

impl Memo {
    /// [`enrich`] through the memo: the same fields, computed at most once
    /// per key. `score` must be finished for `now`.
    pub fn enrich(
        &self,
        tenant: Uuid,
        score: &mut Score,
        state: &TenantState,
        c: CurrencyCode,
        now: DateTime<Utc>,
    ) {
        let Ok(customer) = Uuid::parse_str(&score.customer_id) else {
            enrich(score, state, c, now);
            return;
        };
        let key = Key {
            tenant,
            customer,
            version: score.version,
            generation: state.generation,
            day: day_number(now),
            month: month_index(now),
            recency_days: score.recency_days,
        };
        let found = self.lock().get(&key).cloned();
        if let Some(f) = found {
            score.rfm = f.rfm.clone();
            score.value = f.value.clone();
            score.tier = f.tier.clone();
            score.behaviour_flags = f.behaviour_flags.clone();
            score.explanations = f.explanations.clone();
            score.basis = None;
            return;
        }
        enrich(score, state, c, now);
        let fields = Arc::new(Fields {
            rfm: score.rfm.clone(),
            value: score.value.clone(),
            tier: score.tier.clone(),
            behaviour_flags: score.behaviour_flags.clone(),
            explanations: score.explanations.clone(),
        });
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, fields);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Arc<Fields>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
