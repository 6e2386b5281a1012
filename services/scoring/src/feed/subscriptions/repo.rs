//! The subscriptions' storage (`score_change_subscriptions`, migration 9):
//! one SQL text for both stores, every write by a worker guarded by its
//! lease, so a worker whose lease ran out and was taken over changes
//! nothing.

use chrono::{DateTime, Utc};
use rapport_kit::{
    Db,
    db::{Id, Time},
    in_tx, on_pool, sql_for,
};
use sqlx::{ColumnIndex, Decode, Row, Type};
use uuid::Uuid;

use crate::feed::Position;

/// Most subscriptions of one tenant.
pub const MAX_PER_TENANT: i64 = 20;

/// What a caller sets on a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The handle it is named by.
    pub name: String,
    /// The integration endpoint posts go to.
    pub endpoint: String,
    /// `ScoreChangeKind` numbers kept, sorted and distinct; empty for all.
    pub kinds: Vec<i32>,
    /// For people.
    pub description: String,
}

/// A subscription as stored.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Its tenant.
    pub tenant: Uuid,
    /// What the caller set.
    pub wanted: Wanted,
    /// Fixes the dedupe keys of its posts.
    pub id: Uuid,
    /// Every event up to here was handed over (or filtered out).
    pub at: Position,
    /// The end of a post recorded as about to be handed over.
    pub batch: Option<Position>,
    /// Events handed over, and the posts that carried them.
    pub delivered: i64,
    pub posts: i64,
    pub last_post_at: Option<DateTime<Utc>>,
    /// Why the last hand-over failed; empty after one that succeeded.
    pub last_error: String,
    pub last_error_at: Option<DateTime<Utc>>,
    /// When the retention window last overtook delivery.
    pub gap_at: Option<DateTime<Utc>>,
    /// Hand-overs failed in a row, for the backoff.
    pub failures: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Changed,
    Unchanged,
    /// The tenant already has [`MAX_PER_TENANT`].
    Full,
}

const COLUMNS: &str = "tenant_id, name, id, endpoint, kinds, description, xid, seq, batch_xid, \
                       batch_seq, delivered, posts, last_post_at, last_error, last_error_at, \
                       gap_at, created_at, updated_at, failures";

/// `SELECT` of every column, then `rest`.
fn select(rest: &str) -> String {
    format!("SELECT {COLUMNS} FROM score_change_subscriptions {rest}")
}

fn kinds_text(kinds: &[i32]) -> String {
    kinds
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn kinds_of(text: &str) -> Vec<i32> {
    text.split(',').filter_map(|k| k.parse().ok()).collect()
}

/// A row of [`COLUMNS`] (more than sqlx decodes as a tuple), on either store.
fn stored<'r, R>(r: &'r R) -> sqlx::Result<Stored>
where
    R: Row,
    usize: ColumnIndex<R>,
    Id: Decode<'r, R::Database> + Type<R::Database>,
    Time: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let time = |i: usize| r.try_get::<Option<Time>, _>(i).map(|t| t.map(|t| t.0));
    let batch_xid: Option<i64> = r.try_get(8)?;
    let batch_seq: Option<i64> = r.try_get(9)?;
    Ok(Stored {
        tenant: r.try_get::<Id, _>(0)?.0,
        wanted: Wanted {
            name: r.try_get(1)?,
            endpoint: r.try_get(3)?,
            kinds: kinds_of(&r.try_get::<String, _>(4)?),
            description: r.try_get(5)?,
        },
        id: r.try_get::<Id, _>(2)?.0,
        at: Position {
            xid: r.try_get(6)?,
            seq: r.try_get(7)?,
        },
        batch: batch_xid
            .zip(batch_seq)
            .map(|(xid, seq)| Position { xid, seq }),
        delivered: r.try_get(10)?,
        posts: r.try_get(11)?,
        last_post_at: time(12)?,
        last_error: r.try_get(13)?,
        last_error_at: time(14)?,
        gap_at: time(15)?,
        created_at: r.try_get::<Time, _>(16)?.0,
        updated_at: r.try_get::<Time, _>(17)?.0,
        failures: r.try_get(18)?,
    })
}

/// The subscriptions table.
#[derive(Debug, Clone)]
pub struct SubscriptionRepo {
    db: Db,
}

impl SubscriptionRepo {
    /// Over the service's primary store.
    pub fn new(db: Db) -> Self {
        SubscriptionRepo { db }
    }

    /// Creates `wanted` starting after `start`, or changes the existing one
    /// of its name (keeping its place); the subscription as stored after.
    pub async fn put(
        &self,
        tenant: Uuid,
        wanted: &Wanted,
        start: Position,
        now: DateTime<Utc>,
    ) -> sqlx::Result<(Option<Stored>, Outcome)> {
        let by_name = select("WHERE tenant_id = $1 AND name = $2");
        let out = in_tx!(&self.db, tx => {
            let found = sqlx::query(&by_name)
                .bind(Id(tenant))
                .bind(&wanted.name)
                .fetch_optional(&mut *tx)
                .await?;
            match found.as_ref().map(stored).transpose()? {
                Some(s) if s.wanted == *wanted => (Some(s), Outcome::Unchanged),
                Some(_) => {
                    sqlx::query(
                        "UPDATE score_change_subscriptions \
                            SET endpoint = $3, kinds = $4, description = $5, updated_at = $6 \
                          WHERE tenant_id = $1 AND name = $2",
                    )
                    .bind(Id(tenant))
                    .bind(&wanted.name)
                    .bind(&wanted.endpoint)
                    .bind(kinds_text(&wanted.kinds))
                    .bind(&wanted.description)
                    .bind(Time(now))
                    .execute(&mut *tx)
                    .await?;
                    (None, Outcome::Changed)
                }
                None => {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT count(*) FROM score_change_subscriptions WHERE tenant_id = $1",
                    )
                    .bind(Id(tenant))
                    .fetch_one(&mut *tx)
                    .await?;
                    if n >= MAX_PER_TENANT {
                        (None, Outcome::Full)
                    } else {
                        // A concurrent put of the same name inserts first:
                        // this one then changes nothing and reads it.
                        let inserted = sqlx::query(
                            "INSERT INTO score_change_subscriptions \
                                 (tenant_id, name, id, endpoint, kinds, description, xid, seq, \
                                  next_at, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9) \
                             ON CONFLICT (tenant_id, name) DO NOTHING",
                        )
                        .bind(Id(tenant))
                        .bind(&wanted.name)
                        .bind(Id(Uuid::now_v7()))
                        .bind(&wanted.endpoint)
                        .bind(kinds_text(&wanted.kinds))
                        .bind(&wanted.description)
                        .bind(start.xid)
                        .bind(start.seq)
                        .bind(Time(now))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                        let outcome = if inserted == 1 { Outcome::Created } else { Outcome::Unchanged };
                        (None, outcome)
                    }
                }
            }
        });
        match out {
            (Some(s), o) => Ok((Some(s), o)),
            (None, Outcome::Full) => Ok((None, Outcome::Full)),
            (None, o) => Ok((self.get(tenant, &wanted.name).await?, o)),
        }
    }

    /// One subscription.
    pub async fn get(&self, tenant: Uuid, name: &str) -> sqlx::Result<Option<Stored>> {
        let sql = select("WHERE tenant_id = $1 AND name = $2");
        on_pool!(&self.db, pool => {
            sqlx::query(&sql)
                .bind(Id(tenant))
                .bind(name)
                .fetch_optional(pool)
                .await?
                .as_ref()
                .map(stored)
                .transpose()
        })
    }

    /// The tenant's subscriptions by name.
    pub async fn list(&self, tenant: Uuid) -> sqlx::Result<Vec<Stored>> {
        let sql = select("WHERE tenant_id = $1 ORDER BY name");
        on_pool!(&self.db, pool => {
            sqlx::query(&sql)
                .bind(Id(tenant))
                .fetch_all(pool)
                .await?
                .iter()
                .map(stored)
                .collect()
        })
    }

    /// Removes one; whether it existed.
    pub async fn delete(&self, tenant: Uuid, name: &str) -> sqlx::Result<bool> {
        let n = on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM score_change_subscriptions WHERE tenant_id = $1 AND name = $2")
                .bind(Id(tenant))
                .bind(name)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// How many subscriptions have an event not yet handed over, and when
    /// the oldest such event was written (across tenants, for the metrics).
    pub async fn backlog(&self) -> sqlx::Result<(u64, Option<DateTime<Utc>>)> {
        let sql = sql_for!(
            &self.db,
            postgres = "SELECT count(first_at), min(first_at) FROM ( \
                SELECT (SELECT c.at FROM score_changes c \
                         WHERE c.tenant_id = s.tenant_id \
                           AND (c.xid, c.seq) > (s.xid::text::xid8, s.seq) \
                         ORDER BY c.xid, c.seq LIMIT 1) AS first_at \
                  FROM score_change_subscriptions s) w",
            sqlite = "SELECT count(first_at), min(first_at) FROM ( \
                SELECT (SELECT c.at FROM score_changes c \
                         WHERE c.tenant_id = s.tenant_id AND c.seq > s.seq \
                         ORDER BY c.seq LIMIT 1) AS first_at \
                  FROM score_change_subscriptions s) w",
        );
        let (n, oldest): (i64, Option<Time>) = on_pool!(&self.db, pool => {
            sqlx::query_as(sql).fetch_one(pool).await?
        });
        Ok((n.max(0) as u64, oldest.map(|t| t.0)))
    }

    /// Up to `limit` subscriptions due at `now` and not leased, most overdue
    /// first.
    pub async fn due(&self, now: DateTime<Utc>, limit: u32) -> sqlx::Result<Vec<(Uuid, String)>> {
        let rows: Vec<(Id, String)> = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT tenant_id, name FROM score_change_subscriptions \
                  WHERE next_at <= $1 AND (lease_until IS NULL OR lease_until < $1) \
                  ORDER BY next_at LIMIT $2",
            )
            .bind(Time(now))
            .bind(limit as i64)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(t, n)| (t.0, n)).collect())
    }

    /// Leases one subscription to `owner` until `until` if it is still due
    /// and free (one conditional update: of two workers, one gets it).
    pub async fn claim(
        &self,
        tenant: Uuid,
        name: &str,
        owner: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> sqlx::Result<Option<Stored>> {
        let sql = format!(
            "UPDATE score_change_subscriptions SET lease_owner = $3, lease_until = $5 \
              WHERE tenant_id = $1 AND name = $2 AND next_at <= $4 \
                AND (lease_until IS NULL OR lease_until < $4) \
             RETURNING {COLUMNS}"
        );
        on_pool!(&self.db, pool => {
            sqlx::query(&sql)
                .bind(Id(tenant))
                .bind(name)
                .bind(Id(owner))
                .bind(Time(now))
                .bind(Time(until))
                .fetch_optional(pool)
                .await?
                .as_ref()
                .map(stored)
                .transpose()
        })
    }

    /// Runs a worker's `update` (its SET clause, parameters from $3) on a
    /// subscription it holds; whether it still held it.
    async fn held(
        &self,
        s: &Stored,
        owner: Uuid,
        set: &str,
        bind: impl FnOnce(Binds) -> Binds,
    ) -> sqlx::Result<bool> {
        let sql = format!(
            "UPDATE score_change_subscriptions SET {set} \
              WHERE tenant_id = $1 AND name = $2 AND id = $3 AND lease_owner = $4"
        );
        let binds = bind(Binds::default());
        let n = on_pool!(&self.db, pool => {
            let mut q = sqlx::query(&sql)
                .bind(Id(s.tenant))
                .bind(&s.wanted.name)
                .bind(Id(s.id))
                .bind(Id(owner));
            for b in binds.0 {
                q = match b {
                    Bind::Int(v) => q.bind(v),
                    Bind::Text(v) => q.bind(v),
                    Bind::Time(v) => q.bind(Time(v)),
                };
            }
            q.execute(pool).await?.rows_affected()
        });
        Ok(n == 1)
    }

    /// Records the end of the post about to be handed over.
    pub async fn begin_batch(&self, s: &Stored, owner: Uuid, end: Position) -> sqlx::Result<bool> {
        self.held(s, owner, "batch_xid = $5, batch_seq = $6", |b| {
            b.int(end.xid).int(end.seq)
        })
        .await
    }

    /// Moves the place to `to`, clearing the recorded batch: past a post
    /// handed over (`handed`: the events and posts it adds, 0 and 0 when the
    /// notifications service already had it, and when), which clears the
    /// last error; or past events filtered out (`None`).
    pub async fn advance(
        &self,
        s: &Stored,
        owner: Uuid,
        to: Position,
        handed: Option<(i64, i64, DateTime<Utc>)>,
    ) -> sqlx::Result<bool> {
        let set = if handed.is_some() {
            "xid = $5, seq = $6, batch_xid = NULL, batch_seq = NULL, \
             delivered = delivered + $7, posts = posts + $8, last_post_at = $9, \
             last_error = '', last_error_at = NULL, failures = 0"
        } else {
            "xid = $5, seq = $6, batch_xid = NULL, batch_seq = NULL"
        };
        self.held(s, owner, set, |b| {
            let b = b.int(to.xid).int(to.seq);
            match handed {
                Some((events, posts, at)) => b.int(events).int(posts).time(at),
                None => b,
            }
        })
        .await
    }

    /// The retention window overtook delivery: the place moves to `to` (the
    /// newest event deleted), any recorded batch is dropped, `gap_at` set.
    pub async fn skip_gap(
        &self,
        s: &Stored,
        owner: Uuid,
        to: Position,
        now: DateTime<Utc>,
    ) -> sqlx::Result<bool> {
        self.held(
            s,
            owner,
            "xid = $5, seq = $6, batch_xid = NULL, batch_seq = NULL, gap_at = $7",
            |b| b.int(to.xid).int(to.seq).time(now),
        )
        .await
    }

    /// Gives the subscription up until `next_at`, with `error` recorded when
    /// the hand-over failed.
    pub async fn release(
        &self,
        s: &Stored,
        owner: Uuid,
        next_at: DateTime<Utc>,
        error: Option<(&str, DateTime<Utc>)>,
    ) -> sqlx::Result<bool> {
        match error {
            Some((why, at)) => {
                let set = "lease_owner = NULL, lease_until = NULL, next_at = $5, \
                           last_error = $6, last_error_at = $7, failures = failures + 1";
                self.held(s, owner, set, |b| b.time(next_at).text(why).time(at))
                    .await
            }
            None => {
                let set = "lease_owner = NULL, lease_until = NULL, next_at = $5";
                self.held(s, owner, set, |b| b.time(next_at)).await
            }
        }
    }
}

/// Parameters of a worker's update after the four that find the row.
#[derive(Default)]
struct Binds(Vec<Bind>);

enum Bind {
    Int(i64),
    Text(String),
    Time(DateTime<Utc>),
}

impl Binds {
    fn int(mut self, v: i64) -> Self {
        self.0.push(Bind::Int(v));
        self
    }
    fn text(mut self, v: &str) -> Self {
        self.0.push(Bind::Text(v.to_owned()));
        self
    }
    fn time(mut self, v: DateTime<Utc>) -> Self {
        self.0.push(Bind::Time(v));
        self
    }
}
