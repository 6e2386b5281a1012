//! `UpsertCustomers`: a batch of records keyed by identity, written in one
//! transaction. Reads are a handful of bulk statements, the plan is made in
//! memory, and only rows that differ from what is stored are written.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rapport_kit::domain::truncate;
use uuid::Uuid;

use super::records::{Record, Rejection};
use crate::{
    error::Error,
    hierarchy::{Edge, Verdict, settle},
    model::{ConsentState, Customer, IdentityKey, apply_consents, identity_customer_id},
    store::Store,
};

/// What an upsert did.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    /// Sorted by row.
    pub rejected: Vec<Rejection>,
    /// The customer of each input row; `None` for refused rows.
    pub ids: Vec<Option<Uuid>>,
}

/// A record with the customer it maps to.
struct Planned {
    record: Record,
    id: Uuid,
    existing: bool,
}

/// Rows to write.
#[derive(Default)]
struct Writes {
    rows: Vec<Customer>,
    new_identities: Vec<(Uuid, IdentityKey)>,
    attributes: Vec<(Uuid, BTreeMap<String, String>)>,
    consents: Vec<(Uuid, ConsentState)>,
}

/// Applies `records` (the valid rows of a request of `total` rows, whose
/// other rows are already in `rejected`).
pub(crate) async fn upsert<S: Store>(
    s: &mut S,
    tenant: Uuid,
    total: usize,
    records: Vec<Record>,
    rejected: Vec<Rejection>,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    let mut out = Outcome {
        rejected,
        ids: vec![None; total],
        ..Outcome::default()
    };
    s.lock_hierarchy(tenant).await?;

    let mut keys: Vec<IdentityKey> = records.iter().map(|r| r.key.clone()).collect();
    keys.extend(
        records
            .iter()
            .filter_map(|r| Some((r.key.0.clone(), r.parent.clone()?))),
    );
    keys.sort();
    keys.dedup();
    let found = s.find_identities(tenant, &keys).await?;
    let planned = plan_ids(tenant, records, &found, &mut out.rejected);

    let mut existing: Vec<Uuid> = planned
        .iter()
        .filter(|p| p.existing)
        .map(|p| p.id)
        .collect();
    existing.sort();
    s.lock_rows(tenant, &existing).await?;
    let stored: HashMap<Uuid, Customer> = s
        .load(tenant, &existing)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    if stored.len() != existing.len() {
        // A customer found by identity was deleted before its row was locked.
        return Err(Error::Conflict("customer"));
    }

    let (edges, mut verdicts) = parent_edges(&planned, &found);
    let mut seeds: Vec<Uuid> = edges
        .iter()
        .filter(|e| e.parent_row.is_none())
        .filter_map(|e| e.parent)
        .collect();
    seeds.extend(existing.iter().copied());
    let links = s.links(tenant, &seeds).await?;
    verdicts = settle(&links, &edges, verdicts);

    let mut writes = Writes::default();
    for ((p, edge), verdict) in planned.into_iter().zip(&edges).zip(verdicts) {
        let index = p.record.index;
        if let Some(verdict) = verdict {
            out.rejected.push(parent_rejection(&p.record, verdict));
            continue;
        }
        out.ids[index] = Some(p.id);
        let mut fields = p.record.fields;
        fields.parent_id = edge.parent;
        match stored.get(&p.id) {
            None => {
                out.created += 1;
                let customer = Customer::new(p.id, fields, false, now);
                writes.consents.extend(
                    apply_consents(&[], &p.record.consents)
                        .into_iter()
                        .map(|c| (p.id, c)),
                );
                if !customer.fields.attributes.is_empty() {
                    writes
                        .attributes
                        .push((p.id, customer.fields.attributes.clone()));
                }
                writes.new_identities.push((p.id, p.record.key));
                writes.rows.push(customer);
            }
            Some(current) => {
                let consents = apply_consents(&current.consents, &p.record.consents);
                if fields == current.fields && !current.stub && consents.is_empty() {
                    out.unchanged += 1;
                    continue;
                }
                out.updated += 1;
                writes
                    .consents
                    .extend(consents.into_iter().map(|c| (p.id, c)));
                if fields.attributes != current.fields.attributes {
                    writes.attributes.push((p.id, fields.attributes.clone()));
                }
                writes.rows.push(Customer {
                    fields,
                    stub: false,
                    updated_at: now,
                    ..current.clone()
                });
            }
        }
    }
    write(s, tenant, &writes).await?;
    out.rejected.sort_by_key(|r| r.index);
    Ok(out)
}

/// Gives each record its customer id; refuses a record repeating an
/// identity, or naming the same customer as an earlier record through
/// another identity (two versions of one customer in one batch).
fn plan_ids(
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
fn parent_edges(
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

fn parent_rejection(record: &Record, verdict: Verdict) -> Rejection {
    let reason = match verdict {
        Verdict::UnknownParent => format!(
            "no customer has external id {:?} in source {:?}",
            truncate(record.parent.as_deref().unwrap_or_default(), 40),
            truncate(&record.key.0, 40)
        ),
        Verdict::Cycle => "would make the customer its own ancestor".to_owned(),
    };
    Rejection {
        index: record.index,
        field: format!("customers[{}].parent_external_id", record.index),
        reason,
    }
}

async fn write<S: Store>(s: &mut S, tenant: Uuid, w: &Writes) -> Result<(), Error> {
    let rows: Vec<&Customer> = w.rows.iter().collect();
    s.upsert_rows(tenant, &rows).await?;
    let identities: Vec<(Uuid, &IdentityKey)> =
        w.new_identities.iter().map(|(id, k)| (*id, k)).collect();
    if s.insert_identities(tenant, &identities).await?.len() != identities.len() {
        // Another writer attached one of these identities since it was read.
        return Err(Error::Conflict("identity"));
    }
    let attributes: Vec<(Uuid, &BTreeMap<String, String>)> =
        w.attributes.iter().map(|(id, a)| (*id, a)).collect();
    s.replace_attributes(tenant, &attributes).await?;
    s.write_consents(tenant, &w.consents).await?;
    Ok(())
}
