use chrono::{NaiveDate, TimeZone, Utc};
use rapport_kit::domain::CurrencyCode;
use rapport_proto::v1::{RankingSpec, ReportFilter, ReportMeasure};
use uuid::Uuid;

use std::collections::HashMap;

use super::*;

fn eur() -> CurrencyCode {
    CurrencyCode::parse("EUR").unwrap()
}

/// Month index of (year, month).
fn m(y: i32, month: i32) -> i32 {
    y * 12 + month - 1
}

fn customer(n: u128, region: &str, net: i64, months: &[(i32, i64, u32)]) -> Facts {
    let mut dimensions: [String; 10] = Default::default();
    dimensions[0] = region.to_owned();
    dimensions[1] = "retail".to_owned();
    Facts {
        customer_id: Uuid::from_u128(n),
        display_name: format!("c{n}"),
        dimensions,
        purchases: months.iter().map(|(_, _, p)| *p as u64).sum(),
        net_minor: net,
        margin_minor: net / 4,
        monthly_profit: Some(net as f64 / 1200.0),
        lifetime_value: Some(net as f64 / 50.0),
        past_value: None,
        probability_alive: Some(0.5),
        wallet: None,
        rfm: None,
        recency_days: None,
        order_value: None,
        first_month: months.first().map(|(m, _, _)| *m),
        months: months
            .iter()
            .map(|(m, n, p)| (*m, *n, *n / 4, *p))
            .collect(),
    }
}

fn as_of() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap()
}

fn sample() -> Vec<Facts> {
    vec![
        // North: 100.00 in Jan, 50.00 in Mar.
        customer(
            1,
            "north",
            15_000,
            &[(m(2026, 1), 10_000, 1), (m(2026, 3), 5_000, 1)],
        ),
        // North: 30.00 in Feb.
        customer(2, "north", 3_000, &[(m(2026, 2), 3_000, 1)]),
        // South: 200.00 in Jan, 20.00 in Feb.
        customer(
            3,
            "south",
            22_000,
            &[(m(2026, 1), 20_000, 1), (m(2026, 2), 2_000, 1)],
        ),
        // South, never bought.
        customer(4, "south", 0, &[]),
    ]
}

fn build(rankings: Vec<RankingSpec>) -> Report {
    let mut b = Builder::new(eur(), as_of(), rankings);
    for f in sample() {
        b.add(&f);
    }
    b.finish()
}

fn minor(m: &Option<Money>) -> i64 {
    m.as_ref().unwrap().minor_units
}

#[test]
fn a_breakdown_sums_its_customers_by_value_highest_net_spend_first() {
    let r = build(Vec::new());
    let total = r.total.unwrap();
    assert_eq!((total.customers, total.purchasers), (4, 3));
    assert_eq!(minor(&total.net_spend), 40_000);
    assert_eq!(minor(&total.margin), 3_750 + 750 + 5_500);
    // Lifetime values 300 + 60 + 440 + 0 = 800.00 over four customers.
    assert_eq!(minor(&total.equity), 80_000);
    assert_eq!(minor(&total.average_lifetime_value), 20_000);
    let region = &r.breakdowns[0];
    assert_eq!(region.dimension, ReportDimension::Region as i32);
    let rows: Vec<(&str, u64, u64, i64)> = region
        .rows
        .iter()
        .map(|r| {
            (
                r.value.as_str(),
                r.customers,
                r.purchasers,
                minor(&r.net_spend),
            )
        })
        .collect();
    assert_eq!(rows, [("south", 2, 1, 22_000), ("north", 2, 2, 18_000)]);
    assert_eq!(r.breakdowns.len(), 10);
    assert_eq!(r.breakdowns[1].rows[0].value, "retail");
    assert_eq!(r.breakdowns[1].rows[0].customers, 4);
}

#[test]
fn months_split_new_from_returning_customers() {
    let r = build(Vec::new());
    let months: Vec<(&str, i64, u64, u64, u64, i64, i64)> = r
        .months
        .iter()
        .map(|x| {
            (
                x.month.as_str(),
                minor(&x.net_spend),
                x.buying_customers,
                x.new_customers,
                x.returning_customers,
                minor(&x.new_customer_spend),
                minor(&x.returning_customer_spend),
            )
        })
        .collect();
    assert_eq!(
        months,
        [
            // Customers 1 and 3 first bought in January.
            ("2026-01", 30_000, 2, 2, 0, 30_000, 0),
            // Customer 2 is new, customer 3 returns.
            ("2026-02", 5_000, 2, 1, 1, 3_000, 2_000),
            ("2026-03", 5_000, 1, 0, 1, 0, 5_000),
        ]
    );
    assert_eq!(minor(&r.months[0].margin), 2_500 + 5_000);
}

#[test]
fn cohorts_count_customers_buying_again_k_months_later() {
    let r = build(Vec::new());
    let cohorts: Vec<(&str, u64, &[u64])> = r
        .cohorts
        .iter()
        .map(|c| (c.cohort.as_str(), c.customers, c.active.as_slice()))
        .collect();
    // January: customers 1 and 3; in February only 3 bought, in March only 1.
    // February: customer 2, nothing since.
    assert_eq!(
        cohorts,
        [("2026-01", 2, &[2, 1, 1][..]), ("2026-02", 1, &[1, 0][..])]
    );
}

#[test]
fn rankings_keep_the_best_matching_the_filters() {
    let spec = |measure: ReportMeasure, limit, filters: Vec<ReportFilter>| RankingSpec {
        measure: measure as i32,
        limit,
        filters,
    };
    let north = ReportFilter {
        dimension: ReportDimension::Region as i32,
        value: "north".to_owned(),
    };
    let r = build(vec![
        spec(ReportMeasure::NetSpend, 2, Vec::new()),
        spec(ReportMeasure::NetSpend, 5, vec![north]),
        // Every customer ties at 0.5: the lower ids win.
        spec(ReportMeasure::ProbabilityAlive, 2, Vec::new()),
    ]);
    let ids = |i: usize| -> Vec<(String, f64)> {
        r.rankings[i]
            .customers
            .iter()
            .map(|c| (c.display_name.clone(), c.value))
            .collect()
    };
    assert_eq!(ids(0), [("c3".to_owned(), 220.0), ("c1".to_owned(), 150.0)]);
    assert_eq!(minor(&r.rankings[0].customers[0].money), 22_000);
    assert_eq!(ids(1), [("c1".to_owned(), 150.0), ("c2".to_owned(), 30.0)]);
    assert_eq!(ids(2), [("c1".to_owned(), 0.5), ("c2".to_owned(), 0.5)]);
    assert!(r.rankings[2].customers[0].money.is_none());
}

#[test]
fn the_rfm_grid_and_the_lifetime_value_histogram() {
    let mut b = Builder::new(eur(), as_of(), Vec::new());
    let mut f = customer(1, "north", 1_000, &[(m(2026, 1), 1_000, 1)]);
    f.rfm = Some((5, 2));
    f.lifetime_value = Some(45.0);
    b.add(&f);
    let mut g = customer(2, "north", 500, &[(m(2026, 1), 500, 1)]);
    g.rfm = Some((5, 2));
    g.lifetime_value = Some(5.0);
    b.add(&g);
    let r = b.finish();
    assert_eq!(r.rfm_grid.len(), 25);
    let cell = &r.rfm_grid[4 * 5 + 1];
    assert_eq!((cell.recency, cell.frequency, cell.customers), (5, 2, 2));
    assert_eq!(minor(&cell.net_spend), 1_500);
    assert_eq!(r.rfm_grid.iter().map(|c| c.customers).sum::<u64>(), 2);
    let buckets: Vec<(f64, u64)> = r
        .lifetime_value_histogram
        .iter()
        .map(|b| (b.lower, b.customers))
        .collect();
    assert_eq!(buckets, [(0.0, 1), (10.0, 0), (30.0, 1)]);
}

#[test]
fn no_rfm_grid_or_histogram_without_the_figures() {
    let mut b = Builder::new(eur(), as_of(), Vec::new());
    let mut f = customer(1, "north", 1_000, &[(m(2026, 1), 1_000, 1)]);
    f.lifetime_value = None;
    b.add(&f);
    let r = b.finish();
    assert!(r.rfm_grid.is_empty());
    assert!(r.lifetime_value_histogram.is_empty());
    assert_eq!(minor(&r.total.unwrap().equity), 0);
}

#[test]
fn a_breakdown_keeps_a_thousand_rows_and_sums_the_rest() {
    let mut b = Builder::new(eur(), as_of(), Vec::new());
    for i in 0..1_005u128 {
        // Region "r0" spends least, "r1004" most.
        b.add(&customer(i, &format!("r{i}"), 100 + i as i64, &[]));
    }
    let r = b.finish();
    let rows = &r.breakdowns[0].rows;
    assert_eq!(rows.len(), MAX_ROWS + 1);
    assert_eq!(rows[0].value, "r1004");
    let other = rows.last().unwrap();
    assert_eq!(other.value, OTHER);
    assert_eq!(other.customers, 5);
    assert_eq!(minor(&other.net_spend), 100 + 101 + 102 + 103 + 104);
}

#[test]
fn age_bands_from_the_birth_date() {
    let today = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
    assert_eq!(age_band(Some("2001-03-16"), today), "under 25");
    assert_eq!(age_band(Some("2001-03-15"), today), "25-34");
    assert_eq!(age_band(Some("1961-03-15"), today), "65 and over");
    assert_eq!(age_band(Some("1961-03-16"), today), "55-64");
    assert_eq!(age_band(Some("1980-07-01"), today), "45-54");
    assert_eq!(age_band(Some("15/03/1980"), today), "unknown");
    assert_eq!(age_band(Some("2030-01-01"), today), "unknown");
    assert_eq!(age_band(None, today), "unknown");
}

#[test]
fn month_keys() {
    assert_eq!(month_key(m(2026, 1)), "2026-01");
    assert_eq!(month_key(m(2025, 12)), "2025-12");
}

#[test]
fn the_reactivation_list_ranks_repeat_buyers_likely_gone_by_value_at_risk() {
    let mut b = Builder::new(eur(), as_of(), Vec::new());
    let lapsing = |n: u128, purchases: u32, p: f64, ltv: f64| {
        let mut f = customer(n, "north", 1_000, &[(m(2025, 6), 1_000, purchases)]);
        f.probability_alive = Some(p);
        f.lifetime_value = Some(ltv);
        f.recency_days = Some(270);
        f
    };
    // Worth 100 if active, 0.2 alive: 80 at risk.
    b.add(&lapsing(1, 3, 0.2, 20.0));
    // Worth 400 if active, 0.4 alive: 240 at risk.
    b.add(&lapsing(2, 2, 0.4, 160.0));
    // Likely alive, a single purchase, no lifetime value: not on the list.
    b.add(&lapsing(3, 5, 0.6, 500.0));
    b.add(&lapsing(4, 1, 0.1, 50.0));
    b.add(&lapsing(5, 4, 0.1, 0.0));
    let r = b.finish();
    let list: Vec<(&str, i64)> = r
        .reactivation
        .iter()
        .map(|e| (e.display_name.as_str(), minor(&e.value)))
        .collect();
    assert_eq!(list, [("c2", 24_000), ("c1", 8_000)]);
    assert_eq!(
        r.reactivation[1].reason,
        "P(alive) 0.20 after 270 days without a purchase (3 purchases before); worth 100.00 if \
         still active, 80.00 at risk"
    );
    assert_eq!(minor(&r.reactivation[0].lifetime_value), 16_000);
}

#[test]
fn the_up_sell_list_compares_order_values_with_the_peers_median() {
    let mut b = Builder::new(eur(), as_of(), Vec::new());
    // Twelve buyers of frequency score 3 with baskets of 100.00, one of
    // 40.00; three of score 2 (too few peers).
    for n in 0..13u128 {
        let mut f = customer(n, "north", 1_000, &[(m(2026, 1), 1_000, 1)]);
        f.rfm = Some((3, 3));
        f.order_value = Some(if n == 12 { 40.0 } else { 100.0 });
        b.add(&f);
    }
    for n in 20..23u128 {
        let mut f = customer(n, "north", 1_000, &[(m(2026, 1), 1_000, 1)]);
        f.rfm = Some((3, 2));
        f.order_value = Some(500.0);
        b.add(&f);
    }
    let peers = b.peers();
    let (n, median) = peers.0[2];
    assert_eq!(n, 13);
    // The median lies within 2.5% of 100.00.
    let median = median.unwrap();
    assert!((median - 100.0).abs() <= 2.5, "{median}");
    assert_eq!(peers.0[1].0, 3);
    assert_eq!(peers.0[0], (0, None));

    let buyer = |n: u128, frequency: u8, order_value: f64, recent: u64| UpsellFacts {
        customer_id: Uuid::from_u128(n),
        frequency,
        order_value,
        purchases_last_12_months: recent,
        purchases: recent + 1,
        days_since_last_purchase: 20,
    };
    // 40.00 against about 100.00, six purchases: about 360.00 a year.
    let (m, gap) = upsell_gap(&buyer(12, 3, 40.0, 6), &peers).unwrap();
    assert_eq!(m, median);
    assert!((gap - (median - 40.0) * 6.0).abs() < 1e-9);
    // At half the median or above, too few recent purchases, too few peers:
    // not on the list.
    assert!(upsell_gap(&buyer(1, 3, 51.0, 6), &peers).is_none());
    assert!(upsell_gap(&buyer(2, 3, 40.0, 1), &peers).is_none());
    assert!(upsell_gap(&buyer(3, 2, 40.0, 6), &peers).is_none());

    let mut list = Upsell::default();
    list.offer(&buyer(12, 3, 40.0, 6), &peers);
    list.offer(&buyer(13, 3, 10.0, 2), &peers);
    list.offer(&buyer(1, 3, 90.0, 9), &peers);
    let names = HashMap::from([(Uuid::from_u128(12), "Twelve".to_owned())]);
    let entries = list.finish(&names, eur());
    let got: Vec<(&str, i64)> = entries
        .iter()
        .map(|e| (e.customer_id.as_str(), minor(&e.value)))
        .collect();
    let twelve = Uuid::from_u128(12).to_string();
    let thirteen = Uuid::from_u128(13).to_string();
    let expect = |order: f64, recent: f64| ((median - order) * recent * 100.0).round() as i64;
    assert_eq!(
        got,
        [
            (twelve.as_str(), expect(40.0, 6.0)),
            (thirteen.as_str(), expect(10.0, 2.0))
        ]
    );
    assert_eq!(entries[0].display_name, "Twelve");
    assert_eq!(minor(&entries[0].order_value), 4_000);
    assert!(
        entries[0]
            .reason
            .starts_with("buys as often as peers (frequency score 3) but spends 40.00 a basket"),
        "{}",
        entries[0].reason
    );
}
