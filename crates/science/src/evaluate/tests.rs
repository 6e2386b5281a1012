use super::*;

/// Predicts a fixed rate per time unit, whatever the history.
struct Constant(f64);

impl PurchaseModel for Constant {
    fn conditional_expected_purchases(
        &self,
        _: &CustomerHistory,
        t: f64,
    ) -> Result<f64, PredictError> {
        Ok(self.0 * t)
    }
}

/// Predicts `0.5 + 0.4·x` over the holdout, or, when `by_age`, 1 for customers without
/// repeat purchases older than 15 and 0 for the younger ones.
struct ByFrequency {
    by_age: bool,
}

impl PurchaseModel for ByFrequency {
    fn conditional_expected_purchases(
        &self,
        h: &CustomerHistory,
        _: f64,
    ) -> Result<f64, PredictError> {
        if self.by_age && h.frequency == 0 {
            return Ok(if h.age > 15.0 { 1.0 } else { 0.0 });
        }
        Ok(0.5 + 0.4 * f64::from(h.frequency))
    }
}

struct Failing;

impl PurchaseModel for Failing {
    fn conditional_expected_purchases(
        &self,
        _: &CustomerHistory,
        t: f64,
    ) -> Result<f64, PredictError> {
        Err(PredictError::NotConverged { t })
    }
}

fn customers() -> Vec<HoldoutCustomer> {
    let c = |frequency, recency, age, holdout_purchases| HoldoutCustomer {
        calibration: CustomerHistory::new(frequency, recency, age),
        holdout_purchases,
    };
    vec![
        c(0, 0.0, 10.0, 0),
        c(0, 0.0, 20.0, 1),
        c(2, 5.0, 20.0, 3),
        c(9, 18.0, 20.0, 4),
    ]
}

#[test]
fn totals_groups_and_errors_by_hand() {
    let e = evaluate(&Constant(0.5), &customers(), 2.0).unwrap();
    assert_eq!(e.overall.customers, 4);
    assert_eq!((e.overall.predicted, e.overall.actual), (4.0, 8.0));
    let g = &e.groups;
    assert_eq!((g[0].customers, g[0].predicted, g[0].actual), (2, 2.0, 1.0));
    assert_eq!((g[0].predicted_mean(), g[0].actual_mean()), (1.0, 0.5));
    assert_eq!((g[2].customers, g[2].predicted, g[2].actual), (1, 1.0, 3.0));
    assert_eq!((g[7].customers, g[7].actual), (1, 4.0));
    assert!(g[7].and_more && !g[6].and_more);
    assert_eq!(g[1].customers, 0);
    assert_eq!(g[1].predicted_mean(), 0.0);
    // |1-0| + |1-1| + |1-3| + |1-4| = 6 over 4 customers.
    assert_eq!(e.mean_absolute_error, 1.5);
    // (1-2)²/2 + (3-1)²/1 + (4-1)²/1.
    assert_eq!(e.chi_square, 13.5);
}

#[test]
fn the_closer_model_is_chosen() {
    let constant = Constant(0.5);
    let by_frequency = ByFrequency { by_age: false };
    let candidates: [(&str, &dyn PurchaseModel); 2] =
        [("constant", &constant), ("by frequency", &by_frequency)];
    let choice = choose_model(&candidates, &customers(), 2.0).unwrap();
    assert_eq!((choice.best, choice.name), (1, "by frequency"));
    let chosen = &choice.evaluations[1].1;
    let expected = 1.7_f64.powi(2) / 1.3 + 0.1_f64.powi(2) / 4.1;
    assert!(
        (chosen.chi_square - expected).abs() < 1e-12,
        "{}",
        chosen.chi_square
    );
    assert!((chosen.mean_absolute_error - 0.7).abs() < 1e-12);
    let reason = &choice.reason;
    assert!(
        reason.starts_with("by frequency: lowest chi-square"),
        "{reason}"
    );
    assert!(reason.contains("constant 13.5 / 1.5"), "{reason}");
}

#[test]
fn equal_group_totals_are_split_by_the_per_customer_error() {
    let plain = ByFrequency { by_age: false };
    let by_age = ByFrequency { by_age: true };
    let candidates: [(&str, &dyn PurchaseModel); 2] = [("plain", &plain), ("by age", &by_age)];
    let choice = choose_model(&candidates, &customers(), 2.0).unwrap();
    let (a, b) = (&choice.evaluations[0].1, &choice.evaluations[1].1);
    assert!((a.chi_square - b.chi_square).abs() < 1e-12);
    assert_eq!(choice.name, "by age");
    assert!((b.mean_absolute_error - 0.45).abs() < 1e-12);
    let reason = &choice.reason;
    assert!(reason.contains("lower mean absolute error"), "{reason}");
}

#[test]
fn bg_nbd_plugs_in() {
    let model = crate::bgnbd::fixtures::cdnow();
    let e = evaluate(&model, &customers(), 39.0).unwrap();
    let direct: f64 = customers()
        .iter()
        .map(|c| {
            model
                .conditional_expected_purchases(&c.calibration, 39.0)
                .unwrap()
        })
        .sum();
    assert!((e.overall.predicted - direct).abs() < 1e-12);
}

#[test]
fn bad_input_and_failing_models_are_errors() {
    assert_eq!(
        evaluate(&Constant(1.0), &[], 1.0).unwrap_err(),
        EvaluateError::NoCustomers
    );
    assert!(matches!(
        evaluate(&Constant(1.0), &customers(), 0.0),
        Err(EvaluateError::InvalidHoldoutLength(_))
    ));
    assert!(matches!(
        evaluate(&Failing, &customers(), 1.0),
        Err(EvaluateError::Prediction { index: 0, .. })
    ));
    assert!(matches!(
        evaluate(&Constant(-1.0), &customers(), 1.0),
        Err(EvaluateError::Prediction { index: 0, .. })
    ));
    assert_eq!(
        choose_model(&[], &customers(), 1.0).unwrap_err(),
        EvaluateError::NoModels
    );
}
