use super::*;

#[test]
fn the_reported_log_likelihood_is_that_of_the_data_in_its_own_unit() {
    // Spend per customer varies around a customer mean: enough spread for q > 1.
    let customers: Vec<SpendHistory> = (0..400_u32)
        .map(|i| SpendHistory {
            frequency: 1 + (i * 7) % 6,
            mean_value: 40.0
                * (1.0 + 0.6 * (f64::from(i) * 0.77).sin())
                * (1.0 + 0.2 * (f64::from(i) * 2.3).cos()),
        })
        .collect();
    let fit = fit_gamma_gamma(&customers, &FitOptions::default()).unwrap();
    let GammaGammaParams { p, q, v } = fit.model.params();
    let direct = log_likelihood(&[p, q, v], &SpendData::new(&customers, 1)).value;
    assert!(
        (fit.log_likelihood - direct).abs() < 1e-10 * direct.abs(),
        "{} vs {direct}",
        fit.log_likelihood
    );
}

#[test]
fn conditional_value_shrinks_towards_the_population_mean() {
    let model = GammaGamma::new(GammaGammaParams {
        p: 6.0,
        q: 4.0,
        v: 15.0,
    })
    .unwrap();
    let mean = model.population_mean_value();
    assert!((mean - 30.0).abs() < 1e-12);
    assert_eq!(model.conditional_expected_value(0, 0.0), mean);
    let one = model.conditional_expected_value(1, 100.0);
    let many = model.conditional_expected_value(50, 100.0);
    assert!(mean < one && one < many && many < 100.0, "{one} {many}");
}

#[test]
fn rejects_parameters_without_a_finite_mean() {
    let err = GammaGamma::new(GammaGammaParams {
        p: 6.0,
        q: 0.8,
        v: 15.0,
    })
    .unwrap_err();
    assert_eq!(err.name, "q");
}
