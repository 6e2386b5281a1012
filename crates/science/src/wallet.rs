//! Share of wallet: how much of what a customer spends in a category comes to us.

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
///
/// Both numbers must cover the same period (a year, say) and the same currency: the
/// customer's spend with us, and an estimate of the customer's total spend in the category
/// from any source (a survey, a model, a sales team's judgement).
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
mod tests;
