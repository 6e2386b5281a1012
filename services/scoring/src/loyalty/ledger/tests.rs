use chrono::{TimeZone, Utc};

use super::*;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, day, 12, 0, 0).unwrap()
}

fn entry(id: &str, kind: Kind, points: i64, expires: Option<u32>) -> NewEntry {
    NewEntry {
        entry_id: id.to_owned(),
        kind,
        points,
        occurred_at: at(1),
        expires_at: expires.map(at),
        reason: String::new(),
        request: String::new(),
    }
}

#[test]
fn earning_makes_lots_and_spending_uses_the_soonest_to_expire_first() {
    let p = post(
        &Account::default(),
        &[],
        vec![
            entry("txn:a", Kind::Accrual, 100, Some(20)),
            entry("txn:b", Kind::Accrual, 50, Some(10)),
            entry("welcome", Kind::Welcome, 30, None),
            entry("redeem:r", Kind::Redemption, -70, None),
        ],
        at(2),
    )
    .unwrap();
    let a = &p.account;
    assert_eq!(
        (a.balance, a.earned, a.accrued, a.redeemed),
        (110, 180, 150, 70)
    );
    assert_eq!(a.entries, 4);
    // b (expiring on the 10th) is spent first, then 20 of a.
    let remaining: Vec<(i64, i64)> = p.rows.iter().map(|r| (r.seq, r.remaining)).collect();
    assert_eq!(remaining, vec![(1, 80), (2, 0), (3, 30), (4, 0)]);
    let balances: Vec<i64> = p.rows.iter().map(|r| r.balance_after).collect();
    assert_eq!(balances, vec![100, 150, 180, 110]);
    assert!(p.lots.is_empty(), "no stored lot was touched");
}

#[test]
fn spending_updates_stored_lots_in_order() {
    let account = Account {
        balance: 60,
        earned: 60,
        accrued: 60,
        entries: 3,
        ..Account::default()
    };
    let lots = [
        Lot {
            seq: 3,
            remaining: 10,
            expires_at: None,
        },
        Lot {
            seq: 1,
            remaining: 20,
            expires_at: Some(at(5)),
        },
        Lot {
            seq: 2,
            remaining: 30,
            expires_at: Some(at(3)),
        },
    ];
    let p = post(
        &account,
        &lots,
        vec![entry("redeem:x", Kind::Redemption, -45, None)],
        at(2),
    )
    .unwrap();
    assert_eq!(
        p.lots,
        vec![
            Lot {
                seq: 2,
                remaining: 0,
                expires_at: Some(at(3))
            },
            Lot {
                seq: 1,
                remaining: 5,
                expires_at: Some(at(5))
            },
        ]
    );
    assert_eq!(p.account.balance, 15);
    assert_eq!(p.rows[0].seq, 4);
}

#[test]
fn a_redemption_beyond_the_balance_is_refused_whole() {
    let account = Account {
        balance: 40,
        accrued: 40,
        earned: 40,
        entries: 1,
        ..Account::default()
    };
    let lots = [Lot {
        seq: 1,
        remaining: 40,
        expires_at: None,
    }];
    let e = post(
        &account,
        &lots,
        vec![entry("redeem:x", Kind::Redemption, -41, None)],
        at(2),
    );
    assert_eq!(
        e,
        Err(Insufficient {
            asked: 41,
            balance: 40,
            member: true,
        })
    );
    let e = post(
        &account,
        &lots,
        vec![entry("adjust:x", Kind::Adjustment, -41, None)],
        at(2),
    );
    assert_eq!(
        e,
        Err(Insufficient {
            asked: 41,
            balance: 40,
            member: true,
        })
    );
    assert!(
        post(
            &account,
            &lots,
            vec![entry("redeem:x", Kind::Redemption, -40, None)],
            at(2)
        )
        .is_ok()
    );
}

#[test]
fn a_refund_after_spending_leaves_a_debt_that_the_next_points_pay_first() {
    let account = Account {
        balance: 10,
        accrued: 100,
        earned: 100,
        redeemed: 90,
        entries: 2,
        ..Account::default()
    };
    let lots = [Lot {
        seq: 1,
        remaining: 10,
        expires_at: None,
    }];
    let p = post(
        &account,
        &lots,
        vec![
            entry("txn:refund", Kind::Reversal, 60, None),
            entry("txn:next", Kind::Accrual, 80, None),
        ],
        at(2),
    )
    .unwrap();
    assert_eq!(p.rows[0].entry.points, -60);
    assert_eq!(p.rows[0].balance_after, -50);
    assert_eq!(
        p.lots,
        vec![Lot {
            seq: 1,
            remaining: 0,
            expires_at: None
        }]
    );
    // 50 of the 80 pay the debt; 30 make the lot.
    assert_eq!(p.rows[1].remaining, 30);
    assert_eq!(p.account.balance, 30);
    assert_eq!((p.account.reversed, p.account.earned), (60, 120));
}

#[test]
fn a_reversal_takes_back_no_more_than_purchases_earned() {
    let account = Account {
        balance: 25,
        accrued: 20,
        earned: 25,
        entries: 2,
        ..Account::default()
    };
    let lots = [Lot {
        seq: 1,
        remaining: 25,
        expires_at: None,
    }];
    let mut e = entry("txn:r1", Kind::Reversal, 15, None);
    e.reason = "1.50 EUR × 10 point/unit = 15".into();
    let p = post(
        &account,
        &lots,
        vec![e, entry("txn:r2", Kind::Reversal, 15, None)],
        at(2),
    )
    .unwrap();
    assert_eq!(p.rows[0].entry.points, -15);
    assert_eq!(p.rows[1].entry.points, -5);
    assert!(
        p.rows[1].entry.reason.contains("5 taken back"),
        "{}",
        p.rows[1].entry.reason
    );
    assert_eq!(p.account.balance, 5);
    assert_eq!(p.account.reversed, 20);
}

#[test]
fn expiry_uses_up_the_lots_due() {
    let account = Account {
        balance: 70,
        accrued: 70,
        earned: 70,
        entries: 2,
        ..Account::default()
    };
    let lots = [
        Lot {
            seq: 1,
            remaining: 30,
            expires_at: Some(at(1)),
        },
        Lot {
            seq: 2,
            remaining: 40,
            expires_at: Some(at(20)),
        },
    ];
    let p = post(
        &account,
        &lots,
        vec![entry("expire:3", Kind::Expiry, -30, None)],
        at(2),
    )
    .unwrap();
    assert_eq!(
        p.lots,
        vec![Lot {
            seq: 1,
            remaining: 0,
            expires_at: Some(at(1))
        }]
    );
    assert_eq!((p.account.balance, p.account.expired), (40, 30));
}
