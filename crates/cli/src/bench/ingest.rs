//! Ingest through IngestTransactions against the fastest bulk load the
//! store has for the same rows into tables of the same shape and indexes:
//! Postgres `COPY` into copies of ingestion's transactions (with the same
//! monthly partitions), dedupe-key and outbox tables; on the embedded store,
//! prepared INSERTs in one SQLite transaction per batch. Both commit once
//! per batch, so both are durable at the same points.

use std::{fmt::Write as _, time::Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use prost::Message;
use rapport_kit::Db;
use rapport_proto::v1::{
    ChangeEvent, IngestTransactionsRequest, Transaction, TransactionChange, change_event::Change,
    transaction::Amount,
};
use sqlx::{Executor, sqlite::SqliteConnectOptions};
use uuid::Uuid;

use super::{
    Settings,
    generate::TxnGen,
    population::{PopulationSpec, outbox_depth, wait_drained},
    report::{Report, Target as Goal},
    target::Target,
};

/// Rows/s of the API against the bulk load, for each batch size.
pub async fn run(
    target: &Target,
    spec: &PopulationSpec,
    s: &Settings,
    report: &mut Report,
) -> anyhow::Result<()> {
    let clients = target.clients()?;
    let ingestion_db = target.db(rapport_ingestion::SCHEMA)?;
    let baseline = Baseline::prepare(target).await?;
    for (round, &batch) in s.ingest_batches.iter().enumerate() {
        let batches = (s.ingest_rows as usize).div_ceil(batch).max(1);
        let mut generator = TxnGen::new(spec, &format!("ingest{batch}"), 1_000 + round as u64);
        let data: Vec<Vec<Transaction>> = (0..batches).map(|_| generator.live(batch)).collect();
        let rows = (batches * batch) as f64;

        // The relay runs as it would in production; the figure is the rate
        // at which ingest acknowledged durable rows.
        let mut client = clients.ingestion.clone();
        let t0 = Instant::now();
        for transactions in &data {
            let answer = client
                .ingest_transactions(IngestTransactionsRequest {
                    transactions: transactions.clone(),
                })
                .await
                .context("IngestTransactions")?
                .into_inner();
            anyhow::ensure!(
                answer.accepted as usize == transactions.len(),
                "ingest accepted {} of {} (first rejection: {:?})",
                answer.accepted,
                transactions.len(),
                answer.rejected.first()
            );
        }
        let api = rows / t0.elapsed().as_secs_f64();
        let backlog = outbox_depth(&ingestion_db).await?;
        let t1 = Instant::now();
        wait_drained(&ingestion_db, std::time::Duration::from_secs(3_600)).await?;
        let drain = t1.elapsed().as_secs_f64();

        let t2 = Instant::now();
        for transactions in &data {
            baseline.load(target.tenant_id, transactions).await?;
        }
        let bulk = rows / t2.elapsed().as_secs_f64();
        report.ratio(
            &format!("Ingest, batches of {batch}"),
            format!("{rows} rows, one stream"),
            api,
            baseline.name(),
            bulk,
            "rows/s",
            Goal::AtLeast(0.6),
        );
        if backlog > 0 && drain > 0.0 {
            report.value(
                "Relay + apply: backlog drained",
                format!("{backlog} changes left when ingest ended"),
                backlog as f64 / drain,
                "chg/s",
                Goal::None,
            );
        }
    }
    baseline.close().await;
    ingestion_db.close().await;
    Ok(())
}

/// The bulk load ingest is compared with.
enum Baseline {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

const PG_SETUP: &str = "
DROP SCHEMA IF EXISTS bench_copy CASCADE;
CREATE SCHEMA bench_copy;
CREATE TABLE bench_copy.transactions (LIKE ingestion.transactions INCLUDING ALL)
    PARTITION BY RANGE (occurred_at);
CREATE TABLE bench_copy.transaction_keys (LIKE ingestion.transaction_keys INCLUDING ALL);
CREATE TABLE bench_copy.outbox (LIKE ingestion.outbox INCLUDING ALL);
";

impl Baseline {
    async fn prepare(target: &Target) -> anyhow::Result<Baseline> {
        match target.db(rapport_ingestion::SCHEMA)? {
            Db::Postgres(pool) => {
                pool.execute(PG_SETUP)
                    .await
                    .context("creating the COPY tables")?;
                // The same monthly partitions as the real table.
                let parts: Vec<(String, String)> = sqlx::query_as(
                    "SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid) \
                     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
                     WHERE i.inhparent = 'ingestion.transactions'::regclass",
                )
                .fetch_all(&pool)
                .await?;
                for (name, bound) in parts {
                    pool.execute(
                        format!("CREATE TABLE bench_copy.\"{name}\" PARTITION OF bench_copy.transactions {bound}")
                            .as_str(),
                    )
                    .await?;
                }
                Ok(Baseline::Postgres(pool))
            }
            Db::Sqlite(service) => {
                let ddl: Vec<String> = sqlx::query_scalar(
                    "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND tbl_name IN \
                     ('transactions', 'transaction_keys', 'outbox') ORDER BY type DESC",
                )
                .fetch_all(&service)
                .await?;
                service.close().await;
                let path = target.config().data_dir.join("bench_copy.db");
                let _ = std::fs::remove_file(&path);
                // The service's own connection settings (kit::db).
                let opts = SqliteConnectOptions::new()
                    .filename(&path)
                    .create_if_missing(true)
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(opts)
                    .await?;
                for statement in ddl {
                    pool.execute(statement.as_str()).await?;
                }
                Ok(Baseline::Sqlite(pool))
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Baseline::Postgres(_) => "COPY, same tables",
            Baseline::Sqlite(_) => "SQLite bulk INSERT",
        }
    }

    async fn load(&self, tenant: Uuid, rows: &[Transaction]) -> anyhow::Result<()> {
        let now = Utc::now();
        let rows: Vec<Flat> = rows.iter().map(|t| Flat::of(t, now)).collect();
        match self {
            Baseline::Postgres(pool) => {
                let (mut txns, mut keys, mut outbox) =
                    (String::new(), String::new(), String::new());
                for r in &rows {
                    let opt = |v: Option<i64>| v.map_or("\\N".to_owned(), |v| v.to_string());
                    writeln!(
                        txns,
                        "{tenant}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\tEUR\t{}\t\\N\t{}\t{}",
                        r.customer,
                        r.at.to_rfc3339(),
                        r.id,
                        r.source,
                        r.external_id,
                        r.kind,
                        r.amount,
                        opt(r.margin),
                        r.category,
                        now.to_rfc3339()
                    )?;
                    writeln!(keys, "{tenant}\t{}\t{}\t{}", r.source, r.external_id, r.id)?;
                    writeln!(
                        outbox,
                        "{tenant}\t{}\t\\\\x{}",
                        r.customer,
                        hex::encode(&r.change)
                    )?;
                }
                let mut tx = pool.begin().await?;
                for (sql, data) in [
                    (
                        "COPY bench_copy.transaction_keys (tenant_id, source, external_id, id) FROM STDIN",
                        keys,
                    ),
                    (
                        "COPY bench_copy.transactions (tenant_id, customer_id, occurred_at, id, source, \
                         external_id, kind, amount_minor, currency_code, margin_minor, cost_minor, category, \
                         ingested_at) FROM STDIN",
                        txns,
                    ),
                    (
                        "COPY bench_copy.outbox (tenant_id, customer_id, change) FROM STDIN",
                        outbox,
                    ),
                ] {
                    let mut copy = tx.copy_in_raw(sql).await?;
                    copy.send(data.into_bytes()).await?;
                    copy.finish().await?;
                }
                tx.commit().await?;
            }
            Baseline::Sqlite(pool) => {
                let tenant = tenant.to_string();
                let now = now.timestamp_micros();
                let mut tx = pool.begin().await?;
                for r in &rows {
                    sqlx::query("INSERT INTO transaction_keys (tenant_id, source, external_id, id) VALUES ($1, $2, $3, $4)")
                        .bind(&tenant)
                        .bind(&r.source)
                        .bind(&r.external_id)
                        .bind(r.id.to_string())
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO transactions (tenant_id, customer_id, occurred_at, id, source, external_id, \
                         kind, amount_minor, currency_code, margin_minor, cost_minor, category, ingested_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'EUR', $9, NULL, $10, $11)",
                    )
                    .bind(&tenant)
                    .bind(r.customer.to_string())
                    .bind(r.at.timestamp_micros())
                    .bind(r.id.to_string())
                    .bind(&r.source)
                    .bind(&r.external_id)
                    .bind(r.kind)
                    .bind(r.amount)
                    .bind(r.margin)
                    .bind(&r.category)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("INSERT INTO outbox (tenant_id, customer_id, change, created_at) VALUES ($1, $2, $3, $4)")
                        .bind(&tenant)
                        .bind(r.customer.to_string())
                        .bind(&r.change)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    async fn close(self) {
        match self {
            Baseline::Postgres(p) => p.close().await,
            Baseline::Sqlite(p) => p.close().await,
        }
    }
}

/// A transaction as the tables hold it.
struct Flat {
    id: Uuid,
    customer: Uuid,
    source: String,
    external_id: String,
    kind: &'static str,
    at: DateTime<Utc>,
    amount: i64,
    margin: Option<i64>,
    category: String,
    change: Vec<u8>,
}

impl Flat {
    fn of(t: &Transaction, now: DateTime<Utc>) -> Flat {
        let customer_key = t
            .customer
            .as_ref()
            .map(|c| c.external_id.as_str())
            .unwrap_or_default();
        // Stable ids, as the service would have resolved (values do not
        // matter to the cost of the load).
        let customer = Uuid::new_v5(&Uuid::NAMESPACE_OID, customer_key.as_bytes());
        let id = Uuid::new_v4();
        let at = t
            .occurred_at
            .as_ref()
            .and_then(|ts| DateTime::from_timestamp(ts.seconds, 0))
            .unwrap_or(now);
        let amount = match t.amount {
            Some(Amount::AmountMinor(m)) => m,
            _ => 0,
        };
        let refund = t.kind == rapport_proto::v1::TransactionKind::Refund as i32;
        let change = ChangeEvent {
            id: format!("txn:{id}"),
            customer_id: customer.to_string(),
            change: Some(Change::Transaction(TransactionChange {
                kind: t.kind,
                occurred_at: t.occurred_at,
                amount_minor: amount,
                currency_code: t.currency_code.clone(),
                margin_minor: t.margin_minor,
                cost_minor: t.cost_minor,
                category: t.category.clone(),
            })),
        }
        .encode_to_vec();
        Flat {
            id,
            customer,
            source: t.source.clone(),
            external_id: t.external_id.clone(),
            kind: if refund { "refund" } else { "purchase" },
            at,
            amount,
            margin: t.margin_minor,
            category: t.category.clone(),
            change,
        }
    }
}
