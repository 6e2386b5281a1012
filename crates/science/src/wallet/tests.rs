use super::*;

#[test]
fn share_is_spend_over_estimate_clamped() {
    assert_eq!(share_of_wallet(250.0, Some(1000.0)), Some(0.25));
    assert_eq!(share_of_wallet(1500.0, Some(1000.0)), Some(1.0));
    assert_eq!(share_of_wallet(-20.0, Some(1000.0)), Some(0.0));
    assert_eq!(share_of_wallet(0.0, Some(1000.0)), Some(0.0));
}

#[test]
fn no_usable_estimate_means_no_share() {
    assert_eq!(share_of_wallet(250.0, None), None);
    assert_eq!(share_of_wallet(250.0, Some(0.0)), None);
    assert_eq!(share_of_wallet(250.0, Some(-5.0)), None);
    assert_eq!(share_of_wallet(250.0, Some(f64::NAN)), None);
    assert_eq!(share_of_wallet(250.0, Some(f64::INFINITY)), None);
    assert_eq!(share_of_wallet(f64::NAN, Some(100.0)), None);
}

#[test]
fn group_share_counts_only_customers_with_an_estimate() {
    let entries = [
        WalletEntry {
            spend: 100.0,
            estimated_total: Some(400.0),
        },
        WalletEntry {
            spend: 300.0,
            estimated_total: Some(600.0),
        },
        // No estimate: its spend must not count.
        WalletEntry {
            spend: 5000.0,
            estimated_total: None,
        },
        WalletEntry {
            spend: 10.0,
            estimated_total: Some(0.0),
        },
    ];
    let group = group_share_of_wallet(entries);
    assert_eq!(group.spend, 400.0);
    assert_eq!(group.estimated_total, 1000.0);
    assert_eq!(group.share, Some(0.4));
    assert_eq!((group.counted, group.left_out), (2, 2));
}

#[test]
fn group_share_caps_each_customer_at_their_estimate() {
    let entries = [
        WalletEntry {
            spend: 900.0,
            estimated_total: Some(100.0),
        },
        WalletEntry {
            spend: -50.0,
            estimated_total: Some(100.0),
        },
    ];
    let group = group_share_of_wallet(entries);
    assert_eq!(group.share, Some(0.5));
}

#[test]
fn empty_group_has_no_share() {
    let group = group_share_of_wallet([]);
    assert_eq!(group.share, None);
    assert_eq!(group.counted, 0);
}
