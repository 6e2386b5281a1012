//! `UpsertCustomers`: a batch of records keyed by identity, written in one
//! transaction. Reads are a handful of bulk statements, the plan is made in
//! memory, and only rows that differ from what is stored are written.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use self::plan::{parent_edges, parent_rejection, plan_ids};
use crate::repo::Conn;
use crate::{
    error::Error,
    hierarchy::settle,
    model::{ConsentChanged, ConsentState, Customer, IdentityKey, apply_consents},
    validate::records::{Import, Rejection},
};

mod plan;

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
    /// Every consent that changed, for the audit trail.
    pub consents: Vec<ConsentChanged>,
}

/// Rows to write.
#[derive(Default)]
struct Writes {
    rows: Vec<Customer>,
    new_identities: Vec<(Uuid, IdentityKey)>,
    /// Rows (indices into `rows`) whose attributes are replaced.
    attributes: Vec<usize>,
    consents: Vec<(Uuid, ConsentState)>,
}

impl Conn<'_> {
    /// Applies the valid records of `import`, whose other rows are already
    /// refused.
    pub async fn upsert(
        &mut self,
        tenant: Uuid,
        import: Import,
        now: DateTime<Utc>,
    ) -> Result<Outcome, Error> {
        let Import {
            total,
            records,
            rejected,
        } = import;
        let mut out = Outcome {
            rejected,
            ids: vec![None; total],
            ..Outcome::default()
        };
        self.lock_hierarchy(tenant).await?;

        let mut keys: Vec<IdentityKey> = records.iter().map(|r| r.key.clone()).collect();
        keys.extend(
            records
                .iter()
                .filter_map(|r| Some((r.key.0.clone(), r.parent.clone()?))),
        );
        keys.sort();
        keys.dedup();
        let found = self.find_identities(tenant, &keys).await?;
        let planned = plan_ids(tenant, records, &found, &mut out.rejected);

        let mut existing: Vec<Uuid> = planned
            .iter()
            .filter(|p| p.existing)
            .map(|p| p.id)
            .collect();
        existing.sort();
        self.lock_rows(tenant, &existing).await?;
        let stored: HashMap<Uuid, Customer> = self
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
        let links = self.links(tenant, &seeds).await?;
        // Only customers given a new parent move, and with them the levels
        // they head.
        let moved: Vec<Uuid> = edges
            .iter()
            .filter(|e| links.get(&e.child).is_some_and(|p| *p != e.parent))
            .map(|e| e.child)
            .collect();
        let heights = self.heights(tenant, &moved).await?;
        verdicts = settle(&links, &edges, verdicts, &heights);

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
                    for c in apply_consents(&[], &p.record.consents) {
                        out.consents.push(ConsentChanged::new(p.id, None, &c));
                        writes.consents.push((p.id, c));
                    }
                    if !customer.fields.attributes.is_empty() {
                        writes.attributes.push(writes.rows.len());
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
                    for c in consents {
                        let before = current.consent(c.channel);
                        out.consents.push(ConsentChanged::new(p.id, before, &c));
                        writes.consents.push((p.id, c));
                    }
                    if fields.attributes != current.fields.attributes {
                        writes.attributes.push(writes.rows.len());
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
        self.write(tenant, &writes).await?;
        out.rejected.sort_by_key(|r| r.index);
        Ok(out)
    }

    async fn write(&mut self, tenant: Uuid, w: &Writes) -> Result<(), Error> {
        let rows: Vec<&Customer> = w.rows.iter().collect();
        self.upsert_rows(tenant, &rows).await?;
        let identities: Vec<(Uuid, &IdentityKey)> =
            w.new_identities.iter().map(|(id, k)| (*id, k)).collect();
        if self.insert_identities(tenant, &identities).await?.len() != identities.len() {
            // Another writer attached one of these identities since it was read.
            return Err(Error::Conflict("identity"));
        }
        let attributes: Vec<(Uuid, &BTreeMap<String, String>)> = w
            .attributes
            .iter()
            .map(|&row| (w.rows[row].id, &w.rows[row].fields.attributes))
            .collect();
        self.replace_attributes(tenant, &attributes).await?;
        self.write_consents(tenant, &w.consents).await?;
        Ok(())
    }
}
