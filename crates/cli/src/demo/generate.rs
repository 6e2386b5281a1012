//! A seeded, realistic sample: intermediaries and head offices, businesses
//! under them, and consumers of five habits (loyal, regular, occasional,
//! one-time, lapsed), each with his own rate and basket size.

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::{
    customer::{Parents, customer},
    habits::{BUSINESS, HEAD_OFFICE, Habit, INTERMEDIARY, PERSONS},
    history::{Window, history},
    sample::Sample,
};

/// Generates `n` customers (at least 60) and their transactions over `months`
/// months ending at `end`. The same seed gives the same sample.
pub fn generate(seed: u64, n: usize, months: u32, end: DateTime<Utc>) -> Sample {
    let mut rng = StdRng::seed_from_u64(seed);
    let n = n.max(60);
    // At most 240 months (the flag's bound) and at least 1: some 7300
    // days, so the date arithmetic on the window cannot overflow.
    let months = months.clamp(1, 240);
    let days = f64::from(months) * 30.44;
    let window = Window {
        start: end - Duration::seconds((days * 86_400.0) as i64),
        end,
        days,
    };
    let parents = Parents {
        intermediaries: (n / 300).max(3),
        heads: (n / 75).max(5),
    };
    let habits = habits(&mut rng, n, parents);
    let mut customers = Vec::with_capacity(n);
    let mut transactions = Vec::new();
    for (i, habit) in habits.iter().enumerate() {
        let (row, spread) = customer(&mut rng, i, habit, parents);
        history(
            &mut rng,
            &row.customer_id,
            habit,
            spread,
            &window,
            &mut transactions,
        );
        customers.push(row);
    }
    transactions.sort_by(|a, b| a.occurred_at.cmp(&b.occurred_at));
    Sample {
        customers,
        transactions,
    }
}

/// Each customer's habit: the parents first, then businesses, then persons
/// drawn by their shares.
fn habits(rng: &mut StdRng, n: usize, parents: Parents) -> Vec<Habit> {
    let mut habits: Vec<Habit> = Vec::with_capacity(n);
    habits.extend(std::iter::repeat_n(INTERMEDIARY, parents.intermediaries));
    habits.extend(std::iter::repeat_n(HEAD_OFFICE, parents.heads));
    habits.extend(std::iter::repeat_n(BUSINESS, n * 15 / 100));
    while habits.len() < n {
        let x: f64 = rng.random();
        let mut acc = 0.0;
        let habit = PERSONS.iter().find(|(w, _)| {
            acc += w;
            x < acc
        });
        habits.push(habit.map(|(_, h)| *h).unwrap_or(PERSONS[1].1));
    }
    habits
}

#[cfg(test)]
mod tests;
