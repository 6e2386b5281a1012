//! Stored aggregates to the `Score` callers see. Building happens in two
//! steps: [`stored`] fills what depends only on the data (and is what the
//! cache holds), [`finish`] what depends on the time of the response. Cache
//! and database answers run through the same [`finish`], so they agree.

use chrono::{DateTime, Utc};
use rapport_kit::domain::{chrono_to_timestamp, timestamp_to_chrono};
use rapport_proto::v1::{Money, MonthlySpend, Score, ScoreBasis};

use crate::aggregates::figures;
use crate::{calendar::month_index_of_key, repo::StoredScore};

fn money(currency: &str, minor_units: i64) -> Option<Money> {
    Some(Money {
        currency_code: currency.to_owned(),
        minor_units,
    })
}

/// The time-independent part of a score.
pub fn stored(s: &StoredScore) -> Score {
    let r = &s.row;
    let cur = r.currency_code.as_str();
    Score {
        customer_id: r.customer_id.to_string(),
        version: r.version.max(0) as u64,
        updated_at: Some(chrono_to_timestamp(r.updated_at)),
        first_purchase_at: r.first_purchase_at.map(chrono_to_timestamp),
        last_purchase_at: r.last_purchase_at.map(chrono_to_timestamp),
        purchase_count: r.purchase_count.max(0) as u64,
        refund_count: r.refund_count.max(0) as u64,
        net_spend: money(cur, r.net_spend()),
        average_order_value: money(
            cur,
            figures::average_order_value(r.purchase_total_minor, r.purchase_count),
        ),
        average_monthly_spend: None,
        monthly_spend: figures::recent_months(&s.months)
            .iter()
            .map(|m| MonthlySpend {
                month: m.month.clone(),
                net_spend: money(cur, m.net),
                purchases: m.purchases.clamp(0, u32::MAX as i64) as u32,
            })
            .collect(),
        recency_days: 0,
        last_interaction_at: r.last_interaction_at.map(chrono_to_timestamp),
        interaction_count: r.interaction_count.max(0) as u64,
        segment: String::new(),
        purchase_total: money(cur, r.purchase_total_minor),
        refund_total: money(cur, r.refund_total_minor),
        basis: Some(basis(s)),
        tags: s.marks.tags.clone(),
        ..Score::default()
    }
}

/// What the read-time measures need, kept in the score cache with the rest.
fn basis(s: &StoredScore) -> ScoreBasis {
    let r = &s.row;
    // Keys the store wrote itself always parse; one that did not would only
    // drop that month from the value measures.
    let months: Vec<_> = s
        .months
        .iter()
        .filter_map(|m| month_index_of_key(&m.month).map(|i| (i, m)))
        .collect();
    ScoreBasis {
        purchase_days: r.purchase_days.max(0) as u64,
        purchase_weeks: r.purchase_weeks.max(0) as u64,
        first_day_purchase_minor: r.first_day_purchase_minor,
        first_week_purchase_minor: r.first_week_purchase_minor,
        margin_total_minor: r.margin_total_minor,
        wallet_estimate_minor: r.wallet_estimate_minor,
        months: months.iter().map(|(i, _)| *i).collect(),
        month_net_minor: months.iter().map(|(_, m)| m.net).collect(),
        month_margin_minor: months.iter().map(|(_, m)| m.margin).collect(),
        month_purchases: months
            .iter()
            .map(|(_, m)| m.purchases.clamp(0, u32::MAX as i64) as u32)
            .collect(),
        tier_override: s.marks.tier.clone(),
        tier_origin: s.marks.origin.clone().unwrap_or_default(),
    }
}

/// Fills the fields computed at response time: recency, segment, average
/// monthly spend.
pub fn finish(score: &mut Score, now: DateTime<Utc>) {
    let time =
        |t: &Option<prost_types::Timestamp>| t.as_ref().and_then(|t| timestamp_to_chrono(t).ok());
    let first = time(&score.first_purchase_at);
    let last = time(&score.last_purchase_at);
    let (currency, net) = score
        .net_spend
        .as_ref()
        .map(|m| (m.currency_code.clone(), m.minor_units))
        .unwrap_or_default();
    score.recency_days = figures::recency_days(last, now);
    score.segment = figures::segment(first, last, now).as_str().to_owned();
    score.average_monthly_spend = money(&currency, figures::average_monthly_spend(net, first, now));
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;
    use crate::repo::{MonthRow, ScoreRow};

    #[test]
    fn builds_every_field() {
        let t = |m: u32, d: u32| Utc.with_ymd_and_hms(2026, m, d, 9, 30, 0).unwrap();
        let id = Uuid::new_v4();
        let s = StoredScore {
            row: ScoreRow {
                customer_id: id,
                version: 4,
                first_purchase_at: Some(t(1, 10)),
                last_purchase_at: Some(t(3, 1)),
                purchase_count: 3,
                refund_count: 1,
                purchase_total_minor: 10_000,
                refund_total_minor: 1_000,
                currency_code: "EUR".into(),
                last_interaction_at: Some(t(3, 5)),
                interaction_count: 2,
                updated_at: t(3, 6),
                purchase_days: 3,
                purchase_weeks: 2,
                first_day_purchase_minor: 4_000,
                first_week_purchase_minor: 4_000,
                margin_total_minor: 2_700,
                wallet_estimate_minor: Some(50_000),
            },
            months: vec![
                MonthRow {
                    month: "2026-01".into(),
                    net: 4_000,
                    margin: 1_200,
                    purchases: 1,
                },
                MonthRow {
                    month: "2026-03".into(),
                    net: 5_000,
                    margin: 1_500,
                    purchases: 2,
                },
            ],
            marks: crate::repo::Marks {
                tier: Some("gold".into()),
                origin: Some("rule r v1".into()),
                tags: vec!["vip".into()],
            },
        };
        let mut score = stored(&s);
        finish(&mut score, t(4, 1));
        assert_eq!(score.customer_id, id.to_string());
        assert_eq!(score.version, 4);
        assert_eq!(score.net_spend.as_ref().unwrap().minor_units, 9_000);
        assert_eq!(
            score.average_order_value.as_ref().unwrap().minor_units,
            3_333
        );
        // Four months, January to April: 9000 / 4.
        assert_eq!(
            score.average_monthly_spend.as_ref().unwrap().minor_units,
            2_250
        );
        assert_eq!(score.recency_days, 31);
        assert_eq!(score.segment, "active");
        assert_eq!(score.monthly_spend.len(), 2);
        assert_eq!(score.monthly_spend[1].purchases, 2);
        let basis = score.basis.unwrap();
        assert_eq!(basis.months, [2026 * 12, 2026 * 12 + 2]);
        assert_eq!(basis.month_margin_minor, [1_200, 1_500]);
        assert_eq!(basis.wallet_estimate_minor, Some(50_000));
        assert_eq!(score.purchase_total.unwrap().currency_code, "EUR");
        assert_eq!(score.tags, ["vip"]);
        assert_eq!(basis.tier_override.as_deref(), Some("gold"));
        assert_eq!(basis.tier_origin, "rule r v1");
    }
}
