//! Customer histories for the models, built from stored purchase days as
//! Python's `lifetimes` builds them from a transaction log: purchases grouped
//! by period (day or week), frequency the periods after the first, recency
//! and age in whole periods, and the repeat-spend mean over the periods after
//! the first. The read path computes the same numbers from a score's basis.

use rapport_kit::domain::CurrencyCode;
use rapport_science::{CustomerHistory, RepeatSpend, SpendHistory, evaluate::HoldoutCustomer};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::sample::{SAMPLE_LIMIT, Sample};
use crate::{calendar::TimeUnit, repo::models::DayRow};

/// Minor units to the major units the science works in.
pub fn major(minor: i64, currency: CurrencyCode) -> f64 {
    minor as f64 / 10f64.powi(currency.exponent() as i32)
}

/// Major units back to minor units, rounded; 0 for a non-finite value.
pub fn minor(major: f64, currency: CurrencyCode) -> i64 {
    let v = (major * 10f64.powi(currency.exponent() as i32)).round();
    if v.is_finite() { v as i64 } else { 0 }
}

/// Mean value of the purchase periods after the first, in major units.
pub fn repeat_mean(total_minor: i64, first_minor: i64, repeats: u32, c: CurrencyCode) -> f64 {
    major(total_minor.saturating_sub(first_minor), c) / f64::from(repeats.max(1))
}

/// One customer's periods up to an end day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Frequency, recency and age.
    pub history: CustomerHistory,
    /// Repeat-spend mean, major units, when there are repeat periods.
    pub spend: Option<f64>,
    /// Squared deviations of the repeat periods' values from that mean,
    /// summed, in major units squared (0 without repeat periods).
    pub spend_squares: f64,
}

/// Summarises a customer's purchase days (ascending, `(day, minor units)`)
/// up to and including `end_day`; `None` without a purchase by then.
pub fn summarize(
    days: &[(i64, i64)],
    unit: TimeUnit,
    end_day: i64,
    currency: CurrencyCode,
) -> Option<Summary> {
    let mut periods: Vec<(i64, i64)> = Vec::new();
    for &(day, amount) in days.iter().filter(|(d, _)| *d <= end_day) {
        let p = unit.period_of_day(day);
        match periods.last_mut() {
            Some(last) if last.0 == p => last.1 = last.1.saturating_add(amount),
            _ => periods.push((p, amount)),
        }
    }
    let (first, first_amount) = *periods.first()?;
    let last = periods.last()?.0;
    let repeats = (periods.len() - 1) as u32;
    let total: i64 = periods.iter().map(|p| p.1).sum();
    let end = unit.period_of_day(end_day);
    let spend = (repeats > 0).then(|| repeat_mean(total, first_amount, repeats, currency));
    let spend_squares = spend.map_or(0.0, |mean| {
        let deviation = |p: &(i64, i64)| (major(p.1, currency) - mean).powi(2);
        periods[1..].iter().map(deviation).sum()
    });
    Some(Summary {
        history: CustomerHistory::new(repeats, (last - first) as f64, (end - first) as f64),
        spend,
        spend_squares,
    })
}

/// Distinct periods with a purchase among days after `after_day` up to
/// `end_day`.
pub fn periods_between(days: &[(i64, i64)], unit: TimeUnit, after_day: i64, end_day: i64) -> u32 {
    let mut count = 0;
    let mut last = None;
    for &(day, _) in days.iter().filter(|(d, _)| *d > after_day && *d <= end_day) {
        let p = unit.period_of_day(day);
        if last != Some(p) {
            count += 1;
            last = Some(p);
        }
    }
    count
}

/// What a fit is made from: the histories of a sample of at most
/// [`SAMPLE_LIMIT`] customers, all of them in a smaller tenant.
#[derive(Debug, Default)]
pub struct FitData {
    /// Customers who bought by the end, sampled or not.
    pub customers: u64,
    /// One history per sampled customer who bought by the end.
    pub histories: Vec<CustomerHistory>,
    /// Repeat customers with a positive repeat-spend mean.
    pub spend: Vec<SpendHistory>,
    /// The same customers, with the spread of their repeat periods' values:
    /// what the spend model's fallback is estimated from.
    pub repeat_spend: Vec<RepeatSpend>,
    /// Calibration history and holdout purchases, when split.
    pub holdout: Vec<HoldoutCustomer>,
    hasher: Sha256,
}

impl FitData {
    /// Hex SHA-256 of everything the fit sees plus `context` (unit, end,
    /// models): equal fingerprints mean an equal fit.
    pub fn fingerprint(&self, context: &str) -> String {
        let mut h = self.hasher.clone();
        h.update(context.as_bytes());
        hex::encode(h.finalize())
    }
}

/// One sampled customer's part of the fit data.
struct Sampled {
    history: CustomerHistory,
    spend: Option<f64>,
    spend_squares: f64,
    holdout_purchases: Option<u32>,
}

/// Folds streamed day rows (ordered by customer, then day) into fit data.
pub struct Builder {
    unit: TimeUnit,
    end_day: i64,
    holdout_end: Option<i64>,
    currency: CurrencyCode,
    customer: Option<Uuid>,
    days: Vec<(i64, i64)>,
    hasher: Sha256,
    sample: Sample<Sampled>,
}

impl Builder {
    /// Histories up to `end_day`; with `holdout_end`, also the purchases
    /// after `end_day` up to it, for model checking.
    pub fn new(
        unit: TimeUnit,
        end_day: i64,
        holdout_end: Option<i64>,
        currency: CurrencyCode,
    ) -> Self {
        Builder {
            unit,
            end_day,
            holdout_end,
            currency,
            customer: None,
            days: Vec::new(),
            hasher: Sha256::new(),
            sample: Sample::new(SAMPLE_LIMIT),
        }
    }

    /// The same with a sample of at most `limit` customers.
    #[cfg(test)]
    pub fn with_sample_limit(mut self, limit: usize) -> Self {
        self.sample = Sample::new(limit);
        self
    }

    /// Takes the next row.
    pub fn push(&mut self, row: DayRow) {
        if self.customer != Some(row.customer_id) {
            self.flush();
            self.customer = Some(row.customer_id);
        }
        self.days.push((row.day, row.amount));
    }

    /// Ends the stream and returns the data.
    pub fn finish(mut self) -> FitData {
        self.flush();
        let customers = self.sample.seen();
        let sampled = self.sample.into_items();
        let mut data = FitData {
            customers,
            histories: Vec::with_capacity(sampled.len()),
            hasher: self.hasher,
            ..FitData::default()
        };
        for s in sampled {
            data.histories.push(s.history);
            if let Some(mean) = s.spend.filter(|m| *m > 0.0) {
                data.spend.push(SpendHistory {
                    frequency: s.history.frequency,
                    mean_value: mean,
                });
                data.repeat_spend.push(RepeatSpend {
                    frequency: s.history.frequency,
                    mean_value: mean,
                    squared_deviations: s.spend_squares,
                });
            }
            if let Some(holdout_purchases) = s.holdout_purchases {
                data.holdout.push(HoldoutCustomer {
                    calibration: s.history,
                    holdout_purchases,
                });
            }
        }
        data
    }

    fn flush(&mut self) {
        let (Some(customer), Some(s)) = (
            self.customer,
            summarize(&self.days, self.unit, self.end_day, self.currency),
        ) else {
            self.days.clear();
            return;
        };
        let h = s.history;
        // Every customer counts towards the fingerprint, sampled or not.
        let hasher = &mut self.hasher;
        hasher.update(h.frequency.to_le_bytes());
        hasher.update(h.recency.to_le_bytes());
        hasher.update(h.age.to_le_bytes());
        hasher.update(s.spend.unwrap_or(0.0).to_le_bytes());
        hasher.update(s.spend_squares.to_le_bytes());
        let holdout_purchases = self
            .holdout_end
            .map(|end| periods_between(&self.days, self.unit, self.end_day, end));
        self.sample.offer(
            customer,
            Sampled {
                history: h,
                spend: s.spend,
                spend_squares: s.spend_squares,
                holdout_purchases,
            },
        );
        self.days.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> CurrencyCode {
        CurrencyCode::parse("EUR").unwrap()
    }

    #[test]
    fn histories_count_periods_like_lifetimes() {
        // Days 10 (twice the same day), 12, 30 and 45; observed to day 40.
        let days = [(10, 1_000), (12, 500), (30, 2_500), (45, 9_900)];
        let s = summarize(&days, TimeUnit::Day, 40, eur()).unwrap();
        assert_eq!(s.history, CustomerHistory::new(2, 20.0, 30.0));
        // (500 + 2500) / 2 repeat days, in euros; (5 - 15)² + (25 - 15)².
        assert_eq!(s.spend, Some(15.0));
        assert_eq!(s.spend_squares, 200.0);
        assert_eq!(summarize(&days, TimeUnit::Day, 9, eur()), None);
        let single = summarize(&days, TimeUnit::Day, 11, eur()).unwrap();
        assert_eq!((single.history.frequency, single.spend), (0, None));
        assert_eq!(periods_between(&days, TimeUnit::Day, 11, 45), 3);
        assert_eq!(periods_between(&days, TimeUnit::Day, 11, 44), 2);
    }

    #[test]
    fn weeks_merge_days_of_one_week() {
        // Day 4 (1970-01-05) is a Monday: days 4..=10 are one week.
        let days = [(4, 100), (10, 200), (11, 300)];
        let s = summarize(&days, TimeUnit::Week, 25, eur()).unwrap();
        assert_eq!(s.history, CustomerHistory::new(1, 1.0, 3.0));
        assert_eq!(s.spend, Some(3.0));
    }

    #[test]
    fn fingerprints_follow_the_data() {
        let build = |amount| {
            let mut b = Builder::new(TimeUnit::Day, 100, Some(120), eur());
            let c = Uuid::nil();
            for (day, amount) in [(1, 100), (50, amount), (110, 7)] {
                b.push(DayRow {
                    customer_id: c,
                    day,
                    amount,
                });
            }
            b.finish()
        };
        let (a, b, c) = (build(200), build(200), build(300));
        assert_eq!(a.fingerprint("x"), b.fingerprint("x"));
        assert_ne!(a.fingerprint("x"), c.fingerprint("x"));
        assert_ne!(a.fingerprint("x"), a.fingerprint("y"));
        assert_eq!(a.holdout[0].holdout_purchases, 1);
        assert_eq!(a.spend.len(), 1);
        assert_eq!(a.repeat_spend.len(), 1);
    }

    /// A tenant's purchase days: each customer buys on a day with a chance
    /// of their own (spread over customers) until they drop out with a chance
    /// of their own per purchase, as BG/NBD assumes.
    fn tenant(customers: u128, end: i64) -> Vec<DayRow> {
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut rows = Vec::new();
        for c in 0..customers {
            let id = Uuid::from_u128(c + 1);
            let rate = 0.005 + 0.08 * uniform() * uniform();
            let drop = 0.05 + 0.4 * uniform();
            let typical = 1_000.0 + 20_000.0 * uniform().powi(3);
            let first = (uniform() * (end as f64 - 1.0)) as i64;
            rows.push(DayRow {
                customer_id: id,
                day: first,
                amount: (typical * (0.5 + uniform())) as i64,
            });
            let mut day = first;
            loop {
                day += 1 + (-(1.0 - uniform()).ln() / rate) as i64;
                if day > end || uniform() < drop {
                    break;
                }
                rows.push(DayRow {
                    customer_id: id,
                    day,
                    amount: (typical * (0.5 + uniform())) as i64,
                });
            }
        }
        rows
    }

    #[test]
    fn a_sample_fits_the_models_the_whole_tenant_fits() {
        use rapport_science::{FitOptions, fit_bg_nbd, fit_gamma_gamma};
        let rows = tenant(30_000, 730);
        let build = |limit: usize| {
            let mut b = Builder::new(TimeUnit::Day, 730, None, eur()).with_sample_limit(limit);
            for row in &rows {
                b.push(*row);
            }
            b.finish()
        };
        let whole = build(usize::MAX);
        let sampled = build(6_000);
        assert_eq!(whole.customers, 30_000);
        assert_eq!(whole.histories.len(), 30_000);
        assert_eq!(sampled.customers, 30_000);
        assert_eq!(sampled.histories.len(), 6_000);
        assert!(sampled.spend.len() < whole.spend.len());
        // Every customer counts towards the fingerprint, sampled or not.
        assert_eq!(sampled.fingerprint("x"), whole.fingerprint("x"));

        let options = FitOptions::default();
        let all = fit_bg_nbd(&whole.histories, &options).unwrap();
        let part = fit_bg_nbd(&sampled.histories, &options).unwrap();
        let (a, p, se) = (
            all.model.params(),
            part.model.params(),
            part.standard_errors.unwrap(),
        );
        for (name, whole, sample, se) in [
            ("r", a.r, p.r, se.r),
            ("alpha", a.alpha, p.alpha, se.alpha),
            ("a", a.a, p.a, se.a),
            ("b", a.b, p.b, se.b),
        ] {
            assert!(
                (whole - sample).abs() < 3.0 * se,
                "{name}: whole {whole}, sample {sample} (se {se})"
            );
        }
        let all = fit_gamma_gamma(&whole.spend, &options).unwrap();
        let part = fit_gamma_gamma(&sampled.spend, &options).unwrap();
        let (a, p) = (all.model, part.model);
        let (whole, sample) = (a.population_mean_value(), p.population_mean_value());
        assert!(
            (whole - sample).abs() / whole < 0.05,
            "mean order value: whole {whole}, sample {sample}"
        );
    }
}
