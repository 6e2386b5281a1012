//! What an import left behind, read over the API as a user would check it:
//! the transactions stored per customer and every customer's score.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::Duration,
};

use rapport::client::{Clients, each_score_page};
use rapport_proto::v1::{ListCustomersRequest, ListTransactionsRequest, Money, Score};

use crate::data::{Data, Expected};

/// Customer uuid to the id it was imported with.
async fn customer_ids(c: &mut Clients) -> Result<HashMap<String, String>, tonic::Status> {
    let mut out = HashMap::new();
    let mut token = String::new();
    loop {
        let page = c
            .profiles
            .list_customers(ListCustomersRequest {
                page_size: 1_000,
                page_token: token,
                ..ListCustomersRequest::default()
            })
            .await?
            .into_inner();
        for customer in page.customers {
            if let Some(identity) = customer.identities.first() {
                out.insert(customer.id, identity.external_id.clone());
            }
        }
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        token = page.next_page_token;
    }
}

/// Every customer's score, by the id the customer was imported with.
pub async fn scores(c: &mut Clients) -> Result<BTreeMap<String, Score>, tonic::Status> {
    let ids = customer_ids(c).await?;
    let mut all = Vec::new();
    each_score_page(&mut c.scoring, |page| all.extend(page)).await?;
    Ok(all
        .into_iter()
        .filter_map(|s| Some((ids.get(&s.customer_id)?.clone(), s)))
        .collect())
}

/// What was stored for an import.
#[derive(Debug, Default)]
pub struct Stored {
    /// Transactions stored for the file's customers.
    pub transactions: usize,
    /// Transaction ids stored more than once.
    pub duplicated: usize,
    /// Rows of the file not stored.
    pub lost: usize,
    /// Scores by customer id as imported.
    pub scores: BTreeMap<String, Score>,
}

/// Reads the transactions of every customer in `scores` (one list per
/// customer) and counts them against the file.
async fn transactions(c: &mut Clients, data: &Data, out: &mut Stored) -> Result<(), tonic::Status> {
    let mut ids = HashSet::new();
    for score in out.scores.values() {
        let mut token = String::new();
        loop {
            let page = c
                .ingestion
                .list_transactions(ListTransactionsRequest {
                    customer_id: score.customer_id.clone(),
                    page_size: 1_000,
                    page_token: token,
                })
                .await?
                .into_inner();
            for t in page.transactions {
                out.transactions += 1;
                if !ids.insert(t.external_id) {
                    out.duplicated += 1;
                }
            }
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
    }
    out.lost = data.rows.iter().filter(|r| !ids.contains(&r.id)).count();
    Ok(())
}

fn minor(m: &Option<Money>) -> i64 {
    m.as_ref().map_or(0, |m| m.minor_units)
}

/// The stored facts of a score that an undisturbed run fixes: counts,
/// totals, first and last purchase and the monthly spend (not the version,
/// the update time or anything relative to the tenant's population).
pub fn facts(s: &Score) -> String {
    let t = |t: &Option<prost_types::Timestamp>| t.as_ref().map_or(0, |t| t.seconds);
    let monthly: Vec<String> = s.monthly_spend.iter().map(|x| format!("{x:?}")).collect();
    format!(
        "purchases {} refunds {} purchase_total {} refund_total {} net {} first {} last {} \
         monthly {}",
        s.purchase_count,
        s.refund_count,
        minor(&s.purchase_total),
        minor(&s.refund_total),
        minor(&s.net_spend),
        t(&s.first_purchase_at),
        t(&s.last_purchase_at),
        monthly.join(";"),
    )
}

/// The customers whose score does not hold `expected`'s totals.
pub fn differing(
    scores: &BTreeMap<String, Score>,
    expected: &BTreeMap<String, Expected>,
) -> Vec<String> {
    expected
        .iter()
        .filter(|(customer, e)| {
            scores.get(*customer).map(|s| Expected {
                purchases: s.purchase_count,
                refunds: s.refund_count,
                purchase_total: minor(&s.purchase_total),
                refund_total: minor(&s.refund_total),
            }) != Some((*e).clone())
        })
        .map(|(c, _)| c.clone())
        .collect()
}

/// The customers whose score's [`facts`] differ between two runs.
pub fn unlike(a: &BTreeMap<String, Score>, b: &BTreeMap<String, Score>) -> usize {
    let keys: HashSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k).map(facts) != b.get(*k).map(facts))
        .count()
}

/// Waits, for up to `within`, until every customer's score holds the file's
/// totals; then reads the transactions once.
pub async fn settle(c: &mut Clients, data: &Data, within: Duration) -> Stored {
    let expected = data.expected();
    let deadline = tokio::time::Instant::now() + within;
    let scores = loop {
        let late = tokio::time::Instant::now() > deadline;
        match scores(c).await {
            Ok(s) if late || differing(&s, &expected).is_empty() => break s,
            Err(e) if late => panic!("reading scores: {e:?}"),
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    };
    let mut out = Stored {
        scores,
        ..Stored::default()
    };
    transactions(c, data, &mut out)
        .await
        .expect("list transactions");
    out
}
