//! The environment the scoring service declares, exercised end to end.

mod support;

use rapport_rules::{CompileError, CompileErrorKind, EvalErrorKind, Type, Value};
use support::{activation, scoring_env};

const ISSUE_EXAMPLE: &str = "score.monthly_profit > 500.0 && score.purchases_per_month > 5.0 && change.frequency_drop > 0.3";

/// Why `src` does not compile as an expression.
fn compile_error(src: &str) -> CompileError {
    scoring_env().compile(src).unwrap_err()
}

/// Why `src` does not compile as a condition.
fn condition_error(src: &str) -> CompileError {
    scoring_env().compile_condition(src).unwrap_err()
}

#[test]
fn the_issue_example_compiles_and_fires() {
    let program = scoring_env().compile_condition(ISSUE_EXAMPLE).unwrap();
    assert_eq!(program.result_type(), &Type::Bool);
    assert_eq!(program.source(), ISSUE_EXAMPLE);
    assert!(program.evaluate_bool(&activation()).unwrap());
}

#[test]
fn a_field_typo_is_pointed_at_with_a_suggestion() {
    let err = condition_error("score.montly_profit > 500.0");
    assert_eq!(err.kind, CompileErrorKind::Type);
    assert_eq!((err.line, err.column, err.offset), (1, 7, 6));
    let text = err.to_string();
    assert!(text.starts_with("line 1, column 7: "), "{text}");
    assert!(text.contains("'montly_profit'"), "{text}");
    assert!(text.contains("did you mean 'monthly_profit'"), "{text}");
    assert!(text.contains("Score"), "{text}");
}

#[test]
fn a_variable_typo_is_pointed_at_with_a_suggestion() {
    let err = compile_error("1.0 < scor.tier");
    assert_eq!(
        err.to_string(),
        "line 1, column 7: undeclared reference to 'scor' (did you mean 'score'?)"
    );
}

#[test]
fn references_list_what_the_rule_reads() {
    let program = scoring_env()
        .compile_condition(
            "score.monthly_profit > 500.0 && change.frequency_drop > 0.3 \
             && customer.attributes['region'] == 'north' && has(customer.attributes.industry) \
             && customer.tags.exists(t, t == 'vip')",
        )
        .unwrap();
    let refs: Vec<String> = program.references().into_iter().collect();
    assert_eq!(
        refs,
        [
            "change.frequency_drop",
            "customer.attributes",
            "customer.tags",
            "score.monthly_profit"
        ]
    );
}

#[test]
fn comprehension_variables_are_not_references() {
    let program = scoring_env()
        .compile("customer.tags.map(score, score + '!')")
        .unwrap();
    assert_eq!(
        program.references().into_iter().collect::<Vec<_>>(),
        ["customer.tags"]
    );
    assert_eq!(program.result_type(), &Type::list(Type::String));
}

#[test]
fn typical_rules_evaluate() {
    let env = scoring_env();
    let a = activation();
    let cases = [
        ("score.tier == 'gold' && score.recency_days < 30", true),
        ("score.rfm_segment in ['champions', 'loyal']", true),
        (
            "'vip' in customer.tags && customer.kind == 'business'",
            true,
        ),
        (
            "has(customer.attributes.region) && customer.attributes.region == 'north'",
            true,
        ),
        (
            "'country' in customer.attributes && customer.attributes.country == 'NL'",
            false,
        ),
        ("double(event.properties['cart_value']) > 100.0", true),
        (
            "event.kind.startsWith('cart_') && score.probability_alive >= 0.9",
            true,
        ),
        ("score.recency_days > 10.5", true),
        (
            "change.spend_drop > 0.3 || change.frequency_drop > 0.3",
            true,
        ),
        ("customer.tags.all(t, t.size() <= 3)", true),
    ];
    for (src, want) in cases {
        let p = env
            .compile_condition(src)
            .unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(p.evaluate_bool(&a).unwrap(), want, "{src}");
    }
}

#[test]
fn mixing_int_and_double_arithmetic_suggests_a_literal() {
    let err = compile_error("score.monthly_profit + 500 > 0.0");
    assert_eq!(err.kind, CompileErrorKind::Type);
    assert_eq!(err.column, 22);
    let message = &err.message;
    assert!(message.contains("write 500.0 instead of 500"), "{message}");
}

#[test]
fn a_condition_must_be_bool() {
    let err = condition_error("score.monthly_profit * 2.0");
    assert_eq!(err.kind, CompileErrorKind::Type);
    assert_eq!((err.line, err.column), (1, 1));
    assert_eq!(err.message, "the condition is double, not bool");
    assert!(scoring_env().compile("score.monthly_profit * 2.0").is_ok());
}

#[test]
fn missing_runtime_fields_and_keys_are_distinct_errors() {
    let env = scoring_env();
    let mut a = activation();
    a.bind("score", Value::object([("tier", Value::from("gold"))]));
    let failure = |src| {
        env.compile_condition(src)
            .unwrap()
            .evaluate(&a)
            .unwrap_err()
    };
    let err = failure("score.monthly_profit > 1.0");
    assert_eq!(err.kind, EvalErrorKind::NoSuchField);
    assert_eq!((err.line, err.column), (1, 7));
    let err = failure("customer.attributes.country == 'NL'");
    assert_eq!(err.kind, EvalErrorKind::NoSuchKey);
}

#[test]
fn an_unbound_variable_is_an_error_not_a_panic() {
    let p = scoring_env()
        .compile_condition("score.tier == 'gold'")
        .unwrap();
    let err = p.evaluate(&rapport_rules::Activation::new()).unwrap_err();
    assert_eq!(err.kind, EvalErrorKind::NoSuchKey);
    assert!(err.message.contains("score"));
}

#[test]
fn evaluate_bool_refuses_a_dyn_result_that_is_not_bool() {
    let p = scoring_env().compile_condition("dyn(score.tier)").unwrap();
    let err = p.evaluate_bool(&activation()).unwrap_err();
    assert_eq!(err.kind, EvalErrorKind::TypeMismatch);
}
