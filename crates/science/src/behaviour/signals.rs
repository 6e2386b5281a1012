//! The three signals judged from a customer's evidence: overdue against his own rhythm, and
//! drops in purchase frequency and in spend against his own baseline.

use super::evidence::{Evidence, Unit, Windows};
use super::{BehaviourChange, BehaviourSettings, Signal};
use crate::text::{Number, Percent};

pub(super) fn judge(evidence: Evidence, settings: &BehaviourSettings) -> BehaviourChange {
    BehaviourChange {
        overdue: overdue(&evidence, settings),
        frequency_drop: frequency_drop(&evidence, settings),
        spend_drop: spend_drop(&evidence, settings),
    }
}

fn overdue(e: &Evidence, settings: &BehaviourSettings) -> Option<Signal> {
    let rhythm = e.rhythm.as_ref()?;
    if rhythm.visits < settings.min_purchases_for_overdue as usize || rhythm.mean_gap <= 0.0 {
        return None;
    }
    let value = rhythm.since_last / rhythm.mean_gap;
    let strength = if rhythm.since_last > 0.0 {
        (1.0 - rhythm.mean_gap / rhythm.since_last).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (gap, since) = (rhythm.mean_gap, rhythm.since_last);
    let (gap_unit, since_unit) = (e.unit.name(gap), e.unit.name(since));
    let (gap, since) = (Number::short(gap), Number::short(since));
    let reason = match e.unit {
        Unit::Day => format!(
            "bought every {gap} {gap_unit} on average; {since} {since_unit} since the last purchase"
        ),
        Unit::Month => format!(
            "bought in one month every {gap} {gap_unit} on average; {since} {since_unit} since the last month with a purchase"
        ),
    };
    Some(Signal {
        value,
        flagged: value >= settings.overdue_ratio,
        strength,
        reason,
    })
}

/// `1 − recent / baseline` rates, clamped to `[0, 1]`; `None` without a usable baseline.
fn drop(recent: f64, recent_length: f64, baseline: f64, baseline_length: f64) -> Option<f64> {
    let baseline_rate = baseline / baseline_length;
    let recent_rate = recent.max(0.0) / recent_length;
    if !(baseline_rate.is_finite() && baseline_rate > 0.0 && recent_rate.is_finite()) {
        return None;
    }
    Some((1.0 - recent_rate / baseline_rate).clamp(0.0, 1.0))
}

/// A drop signal from the recent and baseline `amounts` (purchases or spend) of the
/// windows, once the baseline holds enough purchases; `reason` words it from the windows,
/// the drop and the periods per month.
fn drop_signal(
    e: &Evidence,
    settings: &BehaviourSettings,
    amounts: impl Fn(&Windows) -> (f64, f64),
    reason: impl Fn(&Windows, f64, f64) -> String,
) -> Option<Signal> {
    let w = e.windows.as_ref()?;
    if w.baseline_purchases < f64::from(settings.min_baseline_purchases) {
        return None;
    }
    let (recent, baseline) = amounts(w);
    let value = drop(recent, w.recent_length, baseline, w.baseline_length)?;
    Some(Signal {
        value,
        flagged: value >= settings.drop_threshold,
        strength: value,
        reason: reason(w, value, e.unit.per_month()),
    })
}

fn frequency_drop(e: &Evidence, settings: &BehaviourSettings) -> Option<Signal> {
    let amounts = |w: &Windows| (w.recent_purchases, w.baseline_purchases);
    drop_signal(e, settings, amounts, |w, value, per| {
        format!(
            "{} purchase(s) in the last {} {unit} against {} in the {} {unit} before: {} a month against {} ({} fewer)",
            Number::short(w.recent_purchases),
            Number::short(w.recent_length),
            Number::short(w.baseline_purchases),
            Number::short(w.baseline_length),
            Number::short(w.recent_purchases / w.recent_length * per),
            Number::short(w.baseline_purchases / w.baseline_length * per),
            Percent(value),
            unit = e.unit.name(2.0),
        )
    })
}

fn spend_drop(e: &Evidence, settings: &BehaviourSettings) -> Option<Signal> {
    let amounts = |w: &Windows| (w.recent_spend, w.baseline_spend);
    drop_signal(e, settings, amounts, |w, value, per| {
        format!(
            "spent {} in the last {} {unit} against {} in the {} {unit} before: {} a month against {} ({} less)",
            Number::money(w.recent_spend),
            Number::short(w.recent_length),
            Number::money(w.baseline_spend),
            Number::short(w.baseline_length),
            Number::money(w.recent_spend.max(0.0) / w.recent_length * per),
            Number::money(w.baseline_spend / w.baseline_length * per),
            Percent(value),
            unit = e.unit.name(2.0),
        )
    })
}
