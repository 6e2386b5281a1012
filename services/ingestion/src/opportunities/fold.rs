//! An opportunity's current state, folded from its events in occurred_at
//! order (whatever order they arrived in), and its history for the model.

use chrono::{DateTime, Utc};
use rapport_kit::domain::to_micros;
use rapport_science::pipeline::{Deal, Outcome, Stay};
use uuid::Uuid;

use super::store::EventRow;

/// What the events of one opportunity say.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Folded {
    /// The account of its latest event.
    pub customer: Uuid,
    pub source: String,
    pub opportunity_ref: String,
    /// open, won or lost.
    pub status: &'static str,
    pub stage: String,
    pub amount_minor: i64,
    pub expected_close: Option<DateTime<Utc>>,
    pub opened_at: DateTime<Utc>,
    pub stage_entered_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Its stays and outcome, times in days since the epoch.
    pub deal: Deal,
}

/// Days since the epoch, the model's time unit.
pub(crate) fn days(t: DateTime<Utc>) -> f64 {
    to_micros(t) as f64 / 86_400e6
}

/// Folds one opportunity's events, sorted by (occurred_at, id). A stage
/// event after a close reopens it; a close naming a stage enters that
/// stage first; repeated events in one stage extend the stay.
pub(crate) fn fold(events: &[EventRow]) -> Option<Folded> {
    let first = events.first()?;
    let mut f = Folded {
        customer: first.customer,
        source: first.source.clone(),
        opportunity_ref: first.opportunity_ref.clone(),
        status: "open",
        stage: String::new(),
        amount_minor: 0,
        expected_close: None,
        opened_at: first.occurred_at,
        stage_entered_at: first.occurred_at,
        closed_at: None,
        deal: Deal {
            stays: Vec::new(),
            outcome: Outcome::Open,
        },
    };
    for e in events {
        f.customer = e.customer;
        if let Some(a) = e.amount_minor {
            f.amount_minor = a;
        }
        if e.expected_close.is_some() {
            f.expected_close = e.expected_close;
        }
        if !e.stage.is_empty() && (e.stage != f.stage || f.deal.stays.is_empty()) {
            f.stage = e.stage.clone();
            f.stage_entered_at = e.occurred_at;
            f.deal.stays.push(Stay {
                stage: e.stage.clone(),
                entered: days(e.occurred_at),
            });
        }
        let at = days(e.occurred_at);
        (f.status, f.closed_at, f.deal.outcome) = match e.kind.as_str() {
            "won" => ("won", Some(e.occurred_at), Outcome::Won(at)),
            "lost" => ("lost", Some(e.occurred_at), Outcome::Lost(at)),
            _ => ("open", None, Outcome::Open),
        };
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(day: i64, kind: &str, stage: &str, amount: Option<i64>) -> EventRow {
        EventRow {
            customer: Uuid::nil(),
            occurred_at: DateTime::from_timestamp(day * 86_400, 0).unwrap(),
            source: "crm".into(),
            opportunity_ref: "O-1".into(),
            kind: kind.into(),
            stage: stage.into(),
            amount_minor: amount,
            expected_close: None,
        }
    }

    #[test]
    fn stays_merge_and_closes_reopen() {
        let events = [
            event(0, "created", "qualify", Some(100)),
            event(2, "stage_changed", "qualify", None),
            event(3, "stage_changed", "proposal", Some(150)),
            event(5, "lost", "", None),
            event(7, "stage_changed", "proposal", None),
            event(9, "won", "negotiate", None),
        ];
        let f = fold(&events).unwrap();
        assert_eq!(
            (f.status, f.stage.as_str(), f.amount_minor),
            ("won", "negotiate", 150)
        );
        let path: Vec<_> = f
            .deal
            .stays
            .iter()
            .map(|s| (s.stage.as_str(), s.entered))
            .collect();
        assert_eq!(
            path,
            [("qualify", 0.0), ("proposal", 3.0), ("negotiate", 9.0)]
        );
        assert_eq!(f.deal.outcome, Outcome::Won(9.0));
        assert_eq!(f.stage_entered_at, events[5].occurred_at);
    }
}
