//! The in-memory plan of an import batch: which customer each record names,
//! which parent it links to, and why a record is refused.

use std::collections::HashMap;

use rapport_kit::domain::truncate;
use uuid::Uuid;

use crate::{
    hierarchy::{Edge, Verdict},
    model::{IdentityKey, identity_customer_id},
    validate::records::{Record, Rejection},
};

/// A record with the customer it maps to.
pub(super) struct Planned {
    pub record: Record,
    pub id: Uuid,
    pub existing: bool,
}

/// Gives each record its customer id; refuses a record repeating an
/// identity, or naming the same customer as an earlier record through
/// another identity (two versions of one customer in one batch).
pub(super) fn plan_ids(
    tenant: Uuid,
    records: Vec<Record>,
    found: &HashMap<IdentityKey, Uuid>,
    rejected: &mut Vec<Rejection>,
) -> Vec<Planned> {
    let mut first_with_key: HashMap<IdentityKey, usize> = HashMap::new();
    let mut first_with_id: HashMap<Uuid, usize> = HashMap::new();
    let mut planned = Vec::with_capacity(records.len());
    for record in records {
        let field = format!("customers[{}].identity", record.index);
        if let Some(j) = first_with_key.get(&record.key) {
            rejected.push(Rejection {
                index: record.index,
                field,
                reason: format!("repeats customers[{j}]"),
            });
            continue;
        }
        first_with_key.insert(record.key.clone(), record.index);
        let (id, existing) = match found.get(&record.key) {
            Some(id) => (*id, true),
            None => (identity_customer_id(tenant, &record.key), false),
        };
        if let Some(j) = first_with_id.get(&id) {
            let reason = format!("belongs to the same customer as customers[{j}]");
            rejected.push(Rejection {
                index: record.index,
                field,
                reason,
            });
            continue;
        }
        first_with_id.insert(id, record.index);
        planned.push(Planned {
            record,
            id,
            existing,
        });
    }
    planned
}

/// Each record's new parent link; records whose parent is nowhere to be
/// found are refused up front.
pub(super) fn parent_edges(
    planned: &[Planned],
    found: &HashMap<IdentityKey, Uuid>,
) -> (Vec<Edge>, Vec<Option<Verdict>>) {
    let position: HashMap<&IdentityKey, usize> = planned
        .iter()
        .enumerate()
        .map(|(i, p)| (&p.record.key, i))
        .collect();
    let mut edges = Vec::with_capacity(planned.len());
    let mut verdicts = vec![None; planned.len()];
    for (i, p) in planned.iter().enumerate() {
        let mut edge = Edge {
            child: p.id,
            parent: None,
            parent_row: None,
        };
        if let Some(ext) = &p.record.parent {
            let key = (p.record.key.0.clone(), ext.clone());
            if let Some(&j) = position.get(&key) {
                // Created by this batch: exists only if row j is kept.
                edge.parent = Some(planned[j].id);
                edge.parent_row = (!planned[j].existing).then_some(j);
            } else if let Some(id) = found.get(&key) {
                edge.parent = Some(*id);
            } else {
                verdicts[i] = Some(Verdict::UnknownParent);
            }
        }
        edges.push(edge);
    }
    (edges, verdicts)
}

pub(super) fn parent_rejection(record: &Record, verdict: Verdict) -> Rejection {
    let reason = match verdict {
        Verdict::UnknownParent => format!(
            "no customer has external id {:?} in source {:?}",
            truncate(record.parent.as_deref().unwrap_or_default(), 40),
            truncate(&record.key.0, 40)
        ),
        Verdict::Cycle => "would make the customer its own ancestor".to_owned(),
        Verdict::TooDeep => crate::hierarchy::too_deep(),
    };
    Rejection {
        index: record.index,
        field: format!("customers[{}].parent_external_id", record.index),
        reason,
    }
}
