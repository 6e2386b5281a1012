//! The loyalty part of the demo: a points programme put before the sample
//! loads (earning back to the sample's first month, so its purchases earn
//! as they are applied), then the top customers' balances and one
//! redemption with the ledger it leaves.

use chrono::{Months, Utc};
use rapport_kit::domain::chrono_to_timestamp;
use rapport_proto::v1::{
    GetPointsBalanceRequest, ListPointsLedgerRequest, ListScoresRequest, PointsProgramme,
    PutPointsProgrammeRequest, RedeemPointsRequest, ScoreOrder,
};

use super::format::name_of;
use crate::client::Clients;

/// Months the demo's points are kept.
const EXPIRY_MONTHS: u32 = 12;

/// Puts the demo's programme: a point a euro, more for the top tiers, a
/// welcome and a birthday bonus, points kept a year; earning since the
/// sample's first month.
pub(super) async fn setup(clients: &mut Clients, months: u32) -> anyhow::Result<()> {
    let since = Utc::now()
        .checked_sub_months(Months::new(months + 1))
        .unwrap_or_else(Utc::now);
    clients
        .loyalty
        .put_points_programme(PutPointsProgrammeRequest {
            programme: Some(PointsProgramme {
                points_per_unit: 1.0,
                tier_multipliers: [("platinum".to_owned(), 2.0), ("gold".to_owned(), 1.5)].into(),
                welcome_bonus: 50,
                birthday_bonus: 25,
                expiry_months: EXPIRY_MONTHS,
                started_at: Some(chrono_to_timestamp(since)),
                ..PointsProgramme::default()
            }),
        })
        .await?;
    Ok(())
}

/// Prints the top customers' points and a redemption.
pub(super) async fn show(clients: &mut Clients) -> anyhow::Result<()> {
    let top = clients
        .scoring
        .list_scores(ListScoresRequest {
            order_by: ScoreOrder::NetSpend as i32,
            page_size: 5,
            page_token: String::new(),
        })
        .await?
        .into_inner();
    println!(
        "\nLoyalty points (a point a euro, ×1.5 gold, ×2 platinum, welcome 50, kept {EXPIRY_MONTHS} months)"
    );
    println!(
        "  {:<32} {:>9} {:>9} {:>9} {:>12}",
        "customer", "balance", "earned", "expired", "expiring 30d"
    );
    for s in &top.scores {
        let b = clients
            .loyalty
            .get_points_balance(GetPointsBalanceRequest {
                customer_id: s.customer_id.clone(),
            })
            .await?
            .into_inner()
            .balance
            .unwrap_or_default();
        let name = name_of(clients, &s.customer_id).await?;
        println!(
            "  {:<32} {:>9} {:>9} {:>9} {:>12}",
            rapport_kit::domain::truncate(&name, 32),
            b.balance,
            b.earned,
            b.expired,
            b.expiring_30d
        );
    }
    let Some(first) = top.scores.first() else {
        return Ok(());
    };
    let redeemed = clients
        .loyalty
        .redeem_points(RedeemPointsRequest {
            request_id: "demo-voucher".to_owned(),
            customer_id: first.customer_id.clone(),
            points: 100,
            reason: "a 10 EUR voucher".to_owned(),
        })
        .await;
    match redeemed {
        Ok(r) => {
            let b = r.into_inner().balance.unwrap_or_default();
            println!(
                "  the top customer redeems 100 points for a voucher: {} left",
                b.balance
            );
        }
        Err(s) => println!(
            "  the top customer cannot redeem 100 points: {}",
            s.message()
        ),
    }
    let ledger = clients
        .loyalty
        .list_points_ledger(ListPointsLedgerRequest {
            customer_id: first.customer_id.clone(),
            page_size: 4,
            page_token: String::new(),
        })
        .await?
        .into_inner();
    println!("  their latest ledger entries (rapport points ledger <customer> prints it all):");
    for e in &ledger.entries {
        let kind = e
            .kind()
            .as_str_name()
            .trim_start_matches("POINTS_ENTRY_KIND_");
        println!(
            "    {:<15} {:>6}  balance {:>6}  {}",
            kind.to_ascii_lowercase(),
            e.points,
            e.balance_after,
            e.reason
        );
    }
    Ok(())
}
