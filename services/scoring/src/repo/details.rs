//! A score's months and the marks rules set on it, read in the same
//! statement as its row: two correlated subqueries returning JSON, so any
//! score read (one customer, a batch, a page) is one round trip, and a score
//! always carries the marks of the version it was read at.

use rapport_kit::{Db, sql_for};
use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};
use uuid::Uuid;

use super::rows::{COLUMNS, Marks, MonthRow, ScoreRow, StoredScore};

/// The extra select-list items on Postgres, for `FROM customer_scores s`.
const POSTGRES: &str = ", \
    (SELECT json_agg(json_build_array(cm.month, cm.net_minor, cm.margin_minor, cm.purchases))::text \
       FROM customer_monthly cm \
      WHERE cm.tenant_id = s.tenant_id AND cm.customer_id = s.customer_id) AS months_json, \
    (SELECT json_build_array(k.tier_override, k.tier_origin, k.tags)::text \
       FROM customer_marks k \
      WHERE k.tenant_id = s.tenant_id AND k.customer_id = s.customer_id) AS marks_json";

/// The same on SQLite.
const SQLITE: &str = ", \
    (SELECT json_group_array(json_array(cm.month, cm.net_minor, cm.margin_minor, cm.purchases)) \
       FROM customer_monthly cm \
      WHERE cm.tenant_id = s.tenant_id AND cm.customer_id = s.customer_id) AS months_json, \
    (SELECT json_array(k.tier_override, k.tier_origin, k.tags) \
       FROM customer_marks k \
      WHERE k.tenant_id = s.tenant_id AND k.customer_id = s.customer_id) AS marks_json";

/// `SELECT` of whole scores (row, months, marks) `FROM customer_scores s`
/// followed by `rest` (conditions on the row's own columns, unqualified).
pub(super) fn select(db: &Db, rest: &str) -> String {
    // Each backend spells JSON aggregation its own way.
    let details = sql_for!(db, postgres = POSTGRES, sqlite = SQLITE);
    format!("SELECT {COLUMNS}{details} FROM customer_scores s {rest}")
}

/// Whole scores of tenant `$1`'s customers in the list `$2`.
pub(super) fn by_ids(db: &Db) -> String {
    // A list is an array on Postgres, a JSON array on SQLite.
    let of = sql_for!(
        db,
        postgres = "= ANY($2)",
        sqlite = "IN (SELECT value FROM json_each($2))"
    );
    select(db, &format!("WHERE tenant_id = $1 AND customer_id {of}"))
}

impl<'r, R> FromRow<'r, R> for StoredScore
where
    R: Row,
    ScoreRow: FromRow<'r, R>,
    for<'c> &'c str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    fn from_row(r: &'r R) -> Result<Self, sqlx::Error> {
        let months: Option<String> = r.try_get("months_json")?;
        let marks: Option<String> = r.try_get("marks_json")?;
        stored(ScoreRow::from_row(r)?, months.as_deref(), marks.as_deref())
    }
}

fn decode_error(what: &str, e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(format!("{what}: {e}").into())
}

/// A row with its months (oldest first) and marks.
fn stored(
    row: ScoreRow,
    months_json: Option<&str>,
    marks_json: Option<&str>,
) -> Result<StoredScore, sqlx::Error> {
    let mut months: Vec<MonthRow> = match months_json {
        None => Vec::new(),
        Some(json) => serde_json::from_str::<Vec<(String, i64, i64, i64)>>(json)
            .map_err(|e| decode_error("months", e))?
            .into_iter()
            .map(|(month, net, margin, purchases)| MonthRow {
                month,
                net,
                margin,
                purchases,
            })
            .collect(),
    };
    months.sort_by(|a, b| a.month.cmp(&b.month));
    let marks = match marks_json {
        None => Marks::default(),
        Some(json) => {
            let (tier, origin, tags): (Option<String>, Option<String>, String) =
                serde_json::from_str(json).map_err(|e| decode_error("marks", e))?;
            Marks {
                tier,
                origin,
                tags: serde_json::from_str(&tags).map_err(|e| decode_error("tags", e))?,
            }
        }
    };
    Ok(StoredScore { row, months, marks })
}

/// Scores in the order of `order` (ids missing from `scores` are skipped).
pub(super) fn in_order(mut scores: Vec<StoredScore>, order: &[Uuid]) -> Vec<StoredScore> {
    let position: std::collections::HashMap<Uuid, usize> =
        order.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    scores.sort_by_key(|s| {
        position
            .get(&s.row.customer_id)
            .copied()
            .unwrap_or(usize::MAX)
    });
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> ScoreRow {
        ScoreRow {
            customer_id: Uuid::nil(),
            version: 1,
            first_purchase_at: None,
            last_purchase_at: None,
            purchase_count: 0,
            refund_count: 0,
            purchase_total_minor: 0,
            refund_total_minor: 0,
            currency_code: "EUR".into(),
            last_interaction_at: None,
            interaction_count: 0,
            updated_at: chrono::Utc::now(),
            purchase_days: 0,
            purchase_weeks: 0,
            first_day_purchase_minor: 0,
            first_week_purchase_minor: 0,
            margin_total_minor: 0,
            wallet_estimate_minor: None,
        }
    }

    #[test]
    fn months_come_oldest_first_and_marks_with_their_tags() {
        let s = stored(
            row(),
            Some(r#"[["2026-03", 500, 100, 2], ["2026-01", 300, 60, 1]]"#),
            Some(r#"["gold", "rule r1 v2", "[\"vip\",\"win-back\"]"]"#),
        )
        .unwrap();
        assert_eq!(s.months[0].month, "2026-01");
        assert_eq!(s.months[1].purchases, 2);
        assert_eq!(s.marks.tier.as_deref(), Some("gold"));
        assert_eq!(s.marks.tags, ["vip", "win-back"]);
    }

    #[test]
    fn a_score_without_months_or_marks_has_none() {
        let s = stored(row(), None, None).unwrap();
        assert!(s.months.is_empty());
        assert_eq!(s.marks, Marks::default());
        assert!(stored(row(), Some("not json"), None).is_err());
    }
}
