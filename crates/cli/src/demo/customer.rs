//! One generated customer: their row as the ERP holds it, who their parent
//! account is, and how far they are from their habit's rate and basket.

use rand::{Rng, rngs::StdRng};

use super::{
    draw::{normal, pick},
    habits::{AGE_BANDS, COMPANY, FIRST, Habit, INDUSTRIES, LAST, REGIONS, SUFFIX},
    sample::CustomerRow,
};

/// How many parents there are: intermediaries come first, then head offices.
#[derive(Clone, Copy)]
pub(super) struct Parents {
    pub(super) intermediaries: usize,
    pub(super) heads: usize,
}

/// How far one customer is from their habit: rate and basket multipliers.
#[derive(Clone, Copy)]
pub(super) struct Spread {
    pub(super) rate: f64,
    pub(super) basket: f64,
}

/// Customer number `i + 1`, and how far they are from their habit.
pub(super) fn customer(
    rng: &mut StdRng,
    i: usize,
    habit: &Habit,
    parents: Parents,
) -> (CustomerRow, Spread) {
    let region = *pick(rng, REGIONS);
    let (name, email, industry, age_band, parent_id) = match habit.kind {
        "person" => {
            let (f, l) = (*pick(rng, FIRST), *pick(rng, LAST));
            let email = format!("{}.{}{}@example.com", f.to_lowercase(), l.to_lowercase(), i);
            (
                format!("{f} {l}"),
                email,
                "",
                *pick(rng, AGE_BANDS),
                String::new(),
            )
        }
        _ => {
            let name = format!("{} {} {}", pick(rng, COMPANY), pick(rng, SUFFIX), i);
            let email = format!("orders{i}@example.com");
            // Businesses sit under a head office or an intermediary.
            let parent = if habit.name == "business" {
                match rng.random_range(0..10) {
                    0..=4 => format!(
                        "C{:05}",
                        parents.intermediaries + 1 + rng.random_range(0..parents.heads)
                    ),
                    5..=7 => format!("C{:05}", 1 + rng.random_range(0..parents.intermediaries)),
                    _ => String::new(),
                }
            } else {
                String::new()
            };
            (name, email, *pick(rng, INDUSTRIES), "", parent)
        }
    };
    let spread = Spread {
        rate: (0.45 * normal(rng)).exp(),
        basket: (0.35 * normal(rng)).exp(),
    };
    let yearly = 365.0 / habit.gap_days.max(1.0) * habit.basket * spread.basket;
    let wallet = if habit.gap_days.is_finite() {
        yearly * (1.5 + 3.0 * rng.random::<f64>())
    } else {
        300.0
    };
    let row = CustomerRow {
        customer_id: format!("C{:05}", i + 1),
        name,
        kind: habit.kind,
        email,
        phone: format!("+49 30 {:07}", rng.random_range(1_000_000..9_999_999)),
        parent_id,
        consent_email: if rng.random::<f64>() < 0.7 {
            "yes"
        } else {
            "no"
        },
        consent_sms: if rng.random::<f64>() < 0.3 {
            "yes"
        } else {
            "no"
        },
        region,
        industry,
        age_band,
        wallet_estimate: format!("{:.0}", wallet),
        habit: habit.name,
    };
    (row, spread)
}
