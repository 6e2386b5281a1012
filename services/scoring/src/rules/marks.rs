//! What SetTier and Tag actions set, shown on every score read: the tags, and
//! the tier override with an explanation naming the rule and version. Most
//! tenants have none, so whether a tenant has any is remembered for a short
//! while and their reads cost no query.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use rapport_kit::Db;
use rapport_proto::v1::{Explanation, Score};
use uuid::Uuid;

use super::{store::on_pool, work::Marks};

/// How long "this tenant has no marks" is believed; another replica's first
/// mark shows up at most this late.
const REMEMBER: Duration = Duration::from_secs(30);

type MarkRow = (String, Option<String>, Option<String>, String);

/// The read side of marks.
#[derive(Debug)]
pub struct MarksView {
    db: Db,
    known: Mutex<HashMap<Uuid, (bool, Instant)>>,
}

impl MarksView {
    /// Over the service's pool.
    pub fn new(db: Db) -> Self {
        MarksView {
            db,
            known: Mutex::default(),
        }
    }

    /// Notes that `tenant` now has marks (this replica sees them at once).
    pub fn note(&self, tenant: Uuid) {
        if let Ok(mut k) = self.known.lock() {
            k.insert(tenant, (true, Instant::now()));
        }
    }

    async fn any(&self, tenant: Uuid) -> Result<bool, sqlx::Error> {
        if let Ok(k) = self.known.lock()
            && let Some((has, at)) = k.get(&tenant)
            && (*has || at.elapsed() < REMEMBER)
        {
            return Ok(*has);
        }
        let has: bool = on_pool!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM customer_marks WHERE tenant_id = $1)",
            )
            .bind(tenant.to_string())
            .fetch_one(pool)
            .await?
        });
        if let Ok(mut k) = self.known.lock() {
            k.insert(tenant, (has, Instant::now()));
        }
        Ok(has)
    }

    async fn load(&self, tenant: Uuid, ids: &[String]) -> Result<Vec<MarkRow>, sqlx::Error> {
        let sql = "SELECT customer_id, tier_override, tier_origin, tags FROM customer_marks \
                   WHERE tenant_id = $1 AND customer_id IN ";
        match &self.db {
            Db::Postgres(pool) => {
                sqlx::query_as(&format!("{sql} (SELECT unnest($2::text[]))"))
                    .bind(tenant.to_string())
                    .bind(ids)
                    .fetch_all(pool)
                    .await
            }
            Db::Sqlite(pool) => {
                let json = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
                sqlx::query_as(&format!("{sql} (SELECT value FROM json_each($2))"))
                    .bind(tenant.to_string())
                    .bind(json)
                    .fetch_all(pool)
                    .await
            }
        }
    }

    /// Shows the marks of `scores` (enriched, so the override wins).
    pub async fn apply(&self, tenant: Uuid, scores: &mut [Score]) -> Result<(), sqlx::Error> {
        if scores.is_empty() || !self.any(tenant).await? {
            return Ok(());
        }
        let ids: Vec<String> = scores.iter().map(|s| s.customer_id.clone()).collect();
        let marks: HashMap<String, Marks> = self
            .load(tenant, &ids)
            .await?
            .into_iter()
            .map(|(c, tier, origin, tags)| {
                let tags = serde_json::from_str(&tags).unwrap_or_default();
                (c, Marks { tier, origin, tags })
            })
            .collect();
        for s in scores {
            let Some(m) = marks.get(&s.customer_id) else {
                continue;
            };
            s.tags = m.tags.clone();
            if let Some(tier) = &m.tier {
                let origin = m.origin.clone().unwrap_or_default();
                s.explanations.push(Explanation {
                    measure: "tier".into(),
                    text: format!("set to {tier} by {origin} (computed: {:?})", s.tier),
                    inputs: [
                        ("override".to_owned(), tier.clone()),
                        ("computed".to_owned(), s.tier.clone()),
                        ("origin".to_owned(), origin),
                    ]
                    .into(),
                });
                s.tier = tier.clone();
            }
        }
        Ok(())
    }
}
