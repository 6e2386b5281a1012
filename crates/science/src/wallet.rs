//! Share of wallet: how much of what a customer spends in a category comes to us.
//!
//! Both numbers must cover the same period (a year, say) and the same currency: the
//! customer's spend with us, and an estimate of the customer's total spend in the category
//! from any source (a survey, a model, a sales team's judgement).

/// One customer's spend with us and the estimate of their total spend in the category.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WalletEntry {
    /// Spend with us over the period, net of refunds.
    pub spend: f64,
    /// Estimated total spend in the category over the same period, if there is one.
    pub estimated_total: Option<f64>,
}

/// `spend / estimated_total`, clamped to `[0, 1]`.
///
/// `None` when there is no estimate, the estimate is not a positive finite number, or the
/// spend is not finite. Net spend below zero (more refunded than bought) counts as 0; spend
/// above the estimate counts as the whole wallet.
pub fn share_of_wallet(spend: f64, estimated_total: Option<f64>) -> Option<f64> {
    let estimate = estimated_total.filter(|e| e.is_finite() && *e > 0.0)?;
    if !spend.is_finite() {
        return None;
    }
    Some((spend / estimate).clamp(0.0, 1.0))
}

/// Share of wallet of a group of customers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupShare {
    /// Total spend of the customers that have a usable estimate.
    pub spend: f64,
    /// Total of their estimates.
    pub estimated_total: f64,
    /// `spend / estimated_total` clamped to `[0, 1]`; `None` when no customer counted.
    pub share: Option<f64>,
    /// Customers with a usable estimate (positive and finite, and finite spend).
    pub counted: usize,
    /// Customers left out for want of one.
    pub left_out: usize,
}

/// Share of wallet of any group (a segment, a region, the whole base): the sum of spend over
/// the sum of estimates, both over the customers that have a usable estimate only, so a
/// customer without an estimate neither adds spend nor dilutes the share. Each customer's
/// spend counts at least 0 and at most their estimate, as in [`share_of_wallet`].
pub fn group_share_of_wallet(entries: impl IntoIterator<Item = WalletEntry>) -> GroupShare {
    let mut group = GroupShare {
        spend: 0.0,
        estimated_total: 0.0,
        share: None,
        counted: 0,
        left_out: 0,
    };
    for entry in entries {
        match entry.estimated_total {
            Some(e) if e.is_finite() && e > 0.0 && entry.spend.is_finite() => {
                group.spend += entry.spend.clamp(0.0, e);
                group.estimated_total += e;
                group.counted += 1;
            }
            _ => group.left_out += 1,
        }
    }
    if group.counted > 0 && group.estimated_total.is_finite() {
        group.share = Some((group.spend / group.estimated_total).clamp(0.0, 1.0));
    }
    group
}

#[cfg(test)]
mod tests {
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
}
