//! One customer's purchases from the day they joined until they lapse or the
//! window ends, with the odd refund.

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, rngs::StdRng};

use super::{
    customer::Spread,
    draw::{normal, pick},
    habits::{Habit, taste},
    sample::TransactionRow,
};

/// The stretch of time the sample covers.
pub(super) struct Window {
    pub(super) start: DateTime<Utc>,
    pub(super) end: DateTime<Utc>,
    pub(super) days: f64,
}

fn cents(eur: f64) -> i64 {
    (eur * 100.0).round().max(100.0) as i64
}

fn eur(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Customer `id`'s purchases (and the odd refund) from the day they joined
/// until they lapse or the window ends, added to `out`.
pub(super) fn history(
    rng: &mut StdRng,
    id: &str,
    habit: &Habit,
    spread: Spread,
    window: &Window,
    out: &mut Vec<TransactionRow>,
) {
    // Customers join throughout the window; loyal ones tend to be older.
    let joined = rng
        .random::<f64>()
        .powf(if habit.name == "loyal" { 2.0 } else { 1.0 })
        * window.days
        * 0.9;
    let stop_day = if habit.name == "lapsed" {
        joined + (window.days - joined) * rng.random_range(0.2..0.5)
    } else {
        window.days
    };
    let mut day = joined;
    // The window is at most 240 months ending now (see `generate`), so these
    // additions stay decades away from chrono's limits.
    loop {
        let at = window.start + Duration::seconds((day * 86_400.0) as i64);
        if day > stop_day || at > window.end {
            break;
        }
        let amount = cents(habit.basket * spread.basket * (0.4 * normal(rng)).exp());
        let category = *pick(rng, taste(id));
        let margin = amount * rng.random_range(18..42) / 100;
        out.push(transaction(
            out.len(),
            id,
            at,
            amount,
            eur(margin),
            category,
            false,
        ));
        if rng.random::<f64>() < 0.03 {
            let back = at + Duration::days(rng.random_range(2..20));
            if back < window.end {
                let refunded = if rng.random::<bool>() {
                    amount
                } else {
                    amount / 2
                };
                out.push(transaction(
                    out.len(),
                    id,
                    back,
                    refunded,
                    String::new(),
                    category,
                    true,
                ));
            }
        }
        if !habit.gap_days.is_finite() {
            break;
        }
        let gap = -habit.gap_days / spread.rate * rng.random::<f64>().max(1e-9).ln();
        day += gap.max(0.5);
    }
}

/// The row of transaction `index` (numbered from 1 in the file).
fn transaction(
    index: usize,
    customer_id: &str,
    at: DateTime<Utc>,
    cents: i64,
    margin: String,
    category: &'static str,
    refund: bool,
) -> TransactionRow {
    TransactionRow {
        transaction_id: format!("T{:08}", index + 1),
        customer_id: customer_id.to_owned(),
        kind: if refund { "refund" } else { "purchase" },
        occurred_at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        amount: eur(cents),
        currency: "EUR",
        margin,
        category,
        cents,
        refund,
    }
}
