use super::*;

fn spend(orders: &[f64]) -> RepeatSpend {
    let n = orders.len() as f64;
    let mean = orders.iter().sum::<f64>() / n;
    RepeatSpend {
        frequency: orders.len() as u32,
        mean_value: mean,
        squared_deviations: orders.iter().map(|x| (x - mean).powi(2)).sum(),
    }
}

fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() < 1e-9 * want.abs().max(1.0),
        "{got} != {want}"
    );
}

/// Three repeat customers, by hand:
///
/// - A: orders 10 and 16: n = 2, m = 13, SS = 9 + 9 = 18
/// - B: orders 20, 30, 40: n = 3, m = 30, SS = 100 + 0 + 100 = 200
/// - C: one order of 25: n = 1, m = 25, SS = 0
///
/// N = 6, r = 3.
/// m̄ = (2·13 + 3·30 + 1·25) / 6 = 141 / 6 = 23.5
/// s² = (18 + 200 + 0) / ((2−1) + (3−1) + (1−1)) = 218 / 3
/// Σ nᵢ(mᵢ − m̄)² = 2·10.5² + 3·6.5² + 1·1.5² = 220.5 + 126.75 + 2.25 = 349.5
/// a = (349.5 − 2·218/3) / (6 − (4 + 9 + 1)/6) = (1225/6) / (11/3) = 1225/22
/// k = (218/3) / (1225/22) = 4796/3675 ≈ 1.30503
/// A's expected order value = (2·13 + k·23.5) / (2 + k)
///   = (26·3675 + 4796·23.5) / (2·3675 + 4796) = 208256 / 12146 ≈ 17.14614
#[test]
fn matches_a_hand_computation() {
    let data = [
        spend(&[10.0, 16.0]),
        spend(&[20.0, 30.0, 40.0]),
        spend(&[25.0]),
    ];
    let c = estimate_credibility(&data).unwrap();
    assert_eq!(c.customers, 3);
    assert_eq!(c.k_note, None);
    close(c.shrunk.population_mean, 23.5);
    close(c.within_variance.unwrap(), 218.0 / 3.0);
    close(c.between_variance.unwrap(), 1225.0 / 22.0);
    close(c.shrunk.k, 4796.0 / 3675.0);
    close(c.shrunk.expected_value(2, 13.0), 208_256.0 / 12_146.0);
    // B: (3·30 + k·23.5) / (3 + k) = (90·3675 + 4796·23.5) / (3·3675 + 4796)
    //   = 443456 / 15821 ≈ 28.02958
    close(c.shrunk.expected_value(3, 30.0), 443_456.0 / 15_821.0);
    close(c.shrunk.weight(2), 2.0 / (2.0 + 4796.0 / 3675.0));
    // Without a repeat order: the population's mean.
    close(c.shrunk.expected_value(0, 0.0), 23.5);
}

#[test]
fn the_estimate_lies_between_the_customer_and_the_population() {
    let s = ShrunkMean {
        population_mean: 50.0,
        k: 2.0,
    };
    // (1·10 + 2·50) / 3 = 110 / 3; (8·10 + 2·50) / 10 = 18.
    close(s.expected_value(1, 10.0), 110.0 / 3.0);
    close(s.expected_value(8, 10.0), 18.0);
    close(s.expected_value(3, f64::NAN), 50.0);
}

#[test]
fn degenerate_variances_give_a_fixed_weight_with_a_reason() {
    // One repeat customer: no spread between customers to estimate.
    let one = estimate_credibility(&[spend(&[10.0, 20.0])]).unwrap();
    assert_eq!(one.shrunk.k, FALLBACK_CREDIBILITY_WEIGHT);
    assert!(one.k_note.unwrap().contains("only one"), "{one:?}");
    close(one.shrunk.population_mean, 15.0);

    // Nobody has two repeat orders: no within variance. m̄ = (10 + 30) / 2 = 20.
    let singles = estimate_credibility(&[spend(&[10.0]), spend(&[30.0])]).unwrap();
    assert_eq!(singles.shrunk.k, FALLBACK_CREDIBILITY_WEIGHT);
    assert_eq!(singles.within_variance, None);
    assert!(singles.k_note.unwrap().contains("two repeat orders"));
    close(singles.shrunk.population_mean, 20.0);

    // Equal averages: a = (0 − 1·s²) / ... < 0, so every customer gets the population mean
    // as nearly as the largest weight allows.
    let same = estimate_credibility(&[spend(&[10.0, 30.0]), spend(&[5.0, 35.0])]).unwrap();
    assert_eq!(same.shrunk.k, MAX_CREDIBILITY_WEIGHT);
    assert!(same.between_variance.unwrap() < 0.0);
    assert!(same.k_note.unwrap().contains("no more than"));

    // Orders that never vary within a customer: s² = 0, so k = 0, raised to the minimum.
    let exact = estimate_credibility(&[spend(&[10.0, 10.0]), spend(&[30.0, 30.0])]).unwrap();
    assert_eq!(exact.shrunk.k, MIN_CREDIBILITY_WEIGHT);
    assert_eq!(exact.within_variance, Some(0.0));
    assert!(exact.k_note.unwrap().contains("raised"));
}

#[test]
fn bad_input_is_refused_with_the_customer() {
    assert_eq!(
        estimate_credibility(&[]).unwrap_err(),
        FitError::NoCustomers
    );
    let mut bad = [spend(&[10.0, 12.0]), spend(&[5.0])];
    bad[1].frequency = 0;
    assert_eq!(
        estimate_credibility(&bad).unwrap_err(),
        FitError::NotRepeatCustomer { index: 1 }
    );
    bad[1] = spend(&[5.0]);
    bad[0].squared_deviations = -1.0;
    assert!(matches!(
        estimate_credibility(&bad).unwrap_err(),
        FitError::Negative { index: 0, .. }
    ));
    bad[0] = spend(&[0.0, 0.0]);
    assert!(matches!(
        estimate_credibility(&bad).unwrap_err(),
        FitError::NonPositiveSpend { index: 0, .. }
    ));
}
