use super::*;
use crate::types::Type;

/// Compiles `src` as `Env::compile` does (parse, then check with `x: dyn`)
/// and evaluates it through the crate-internal entry, to see the
/// unpositioned fault.
fn run_with(src: &str, limits: Limits) -> Result<Value, Fault> {
    let mut a = Activation::new();
    a.bind("x", Value::Int(0));
    let mut expr = crate::parser::parse(src, &limits).unwrap();
    crate::checker::check(src, &mut expr, &[("x".to_owned(), Type::Dyn)].into()).unwrap();
    evaluate(&expr, &a, &limits)
}

fn run(src: &str) -> Result<Value, Fault> {
    run_with(src, Limits::default())
}

fn kind(src: &str) -> EvalErrorKind {
    run(src).unwrap_err().kind
}

/// Truth tables for `&&`/`||` with an erroring operand `E` (`1/x > 0`, x = 0) and a
/// non-bool operand `N` (`dyn(1)`), in both orders.
#[test]
fn logic_absorbs_errors_commutatively() {
    let e = "1 / x > 0";
    let n = "dyn(1)";
    let cases = [
        (format!("false && {e}"), Ok(false)),
        (format!("{e} && false"), Ok(false)),
        (format!("true && {e}"), Err(EvalErrorKind::DivisionByZero)),
        (format!("{e} && true"), Err(EvalErrorKind::DivisionByZero)),
        (format!("true || {e}"), Ok(true)),
        (format!("{e} || true"), Ok(true)),
        (format!("false || {e}"), Err(EvalErrorKind::DivisionByZero)),
        (format!("{e} || false"), Err(EvalErrorKind::DivisionByZero)),
        (format!("{n} && false"), Ok(false)),
        (format!("{n} || true"), Ok(true)),
        (format!("{n} && true"), Err(EvalErrorKind::TypeMismatch)),
        (format!("{e} && {n}"), Err(EvalErrorKind::DivisionByZero)),
        (format!("{n} && {e}"), Err(EvalErrorKind::TypeMismatch)),
    ];
    for (src, want) in cases {
        let got = run(&src).map_err(|f| f.kind);
        assert_eq!(got, want.map(Value::Bool), "{src}");
    }
}

#[test]
fn every_node_costs_at_least_one() {
    let limits = |max_cost| Limits {
        max_cost,
        ..Limits::default()
    };
    // Three nodes: two literals and the addition.
    assert_eq!(run_with("1 + 2", limits(3)), Ok(Value::Int(3)));
    assert_eq!(
        run_with("1 + 2", limits(2)).unwrap_err().kind,
        EvalErrorKind::CostExceeded
    );
    // A comprehension pays per element on top of its body.
    // 5 nodes outside the loop, then 1 per element plus 1 for the body.
    assert!(run_with("[1, 2, 3].all(v, true)", limits(11)).is_ok());
    assert!(run_with("[1, 2, 3].all(v, true)", limits(10)).is_err());
}

#[test]
fn budget_and_size_faults_are_fatal() {
    let tiny = Limits {
        max_cost: 5,
        ..Limits::default()
    };
    let f = run_with("[1, 2, 3, 4, 5, 6].exists(v, v > 0) || true", tiny).unwrap_err();
    assert_eq!(f.kind, EvalErrorKind::CostExceeded);
    let small = Limits {
        max_string_len: 3,
        ..Limits::default()
    };
    let f = run_with("'ab' + 'cd' == 'x' || true", small).unwrap_err();
    assert_eq!(f.kind, EvalErrorKind::LimitExceeded);
}

#[test]
fn numbers_compare_across_types() {
    for src in [
        "1 == 1.0",
        "1u == 1",
        "-1 < 0u",
        "18446744073709551615u > 9223372036854775807",
        "2.5 > 2",
        "1 != 1.5",
        "[1, 2] == [1.0, 2u]",
        "{1: 'a'} == {1u: 'a'}",
        "1.0 in [1]",
        "1u in {1: true}",
    ] {
        assert_eq!(run(src), Ok(Value::Bool(true)), "{src}");
    }
}

#[test]
fn runtime_type_errors_are_mismatches_not_panics() {
    for src in [
        "dyn('a') - 1",
        "dyn('a') < 1",
        "dyn(1).size()",
        "dyn(1).contains('a')",
        "dyn(1).f",
        "has(dyn(1).f)",
        "dyn(1)[0]",
        "dyn(1).all(v, true)",
        "dyn(1) ? 1 : 2",
        "!dyn(1)",
        "-dyn('a')",
        "1 in dyn(1)",
        "{dyn([1]): 1}",
        "[1].all(v, dyn(v))",
    ] {
        let got = run(src);
        assert!(
            matches!(&got, Err(f) if f.kind == EvalErrorKind::TypeMismatch),
            "{src}: {got:?}"
        );
    }
}

#[test]
fn faults_point_at_the_failing_operator() {
    let f = run("1 + 2 / x").unwrap_err();
    assert_eq!((f.kind, f.offset), (EvalErrorKind::DivisionByZero, 6));
}

#[test]
fn conversions_check_ranges() {
    assert_eq!(run("int(-9223372036854775808.0)"), Ok(Value::Int(i64::MIN)));
    assert_eq!(kind("int(9223372036854775808.0)"), EvalErrorKind::Overflow);
    assert_eq!(
        kind("uint(18446744073709551616.0)"),
        EvalErrorKind::Overflow
    );
    assert_eq!(run("uint(-0.5)"), Ok(Value::Uint(0)));
    assert_eq!(kind("int(1.0 / 0.0)"), EvalErrorKind::Overflow);
    assert_eq!(kind("uint('-1')"), EvalErrorKind::InvalidArgument);
    assert_eq!(run("string(-0.5)"), Ok(Value::from("-0.5")));
}
