//! Hostile rules: nesting, size, runtime cost and value growth all end in errors,
//! never in a crash or a hang.

mod support;

use rapport_rules::{
    Activation, CompileErrorKind, Env, EvalErrorKind, Limits, Program, Type, Value,
};

/// Limits that let huge sources through to the checks behind the length check.
fn roomy() -> Limits {
    Limits {
        max_source_len: 10_000_000,
        max_nodes: 10_000_000,
        ..Limits::default()
    }
}

/// Compiles `src` with no variables and default limits, and runs it.
fn run(src: &str) -> Result<Value, rapport_rules::EvalError> {
    Env::new()
        .compile(src)
        .unwrap()
        .evaluate(&Activation::new())
}

fn compile_err(env: &Env, src: &str) -> rapport_rules::CompileError {
    env.compile(src).expect_err("must not compile")
}

#[test]
fn deep_nesting_is_a_limit_error_not_a_stack_overflow() {
    let env = Env::new().variable("x", Type::Dyn).limits(roomy());
    let n = 100_000;
    let hostile = [
        format!("{}1{}", "(".repeat(n), ")".repeat(n)),
        format!("{}true", "!".repeat(n)),
        format!("{}1", "-".repeat(n)),
        format!("{}1{}", "[".repeat(n), "]".repeat(n)),
        format!("{}{}", "{1:".repeat(n), "}".repeat(n)),
        format!("{}1", "true ? 1 : ".repeat(n)),
        format!("{}x{}", "size(".repeat(n), ")".repeat(n)),
        format!("x{}", "[x".repeat(n)),
        "(".repeat(n),
    ];
    for src in &hostile {
        let err = compile_err(&env, src);
        assert_eq!(err.kind, CompileErrorKind::Limit, "{}: {err}", &src[..20]);
        assert!(err.message.contains("nested"), "{err}");
    }
}

#[test]
fn nesting_within_the_limit_compiles() {
    let env = Env::new();
    let src = format!("{}1{}", "(".repeat(30), ")".repeat(30));
    assert_eq!(
        env.compile(&src).unwrap().evaluate(&Activation::new()),
        Ok(Value::Int(1))
    );
    let err = compile_err(&env, &format!("{}1{}", "(".repeat(33), ")".repeat(33)));
    assert_eq!(err.kind, CompileErrorKind::Limit);
}

#[test]
fn an_enormous_max_depth_is_capped() {
    let limits = Limits {
        max_depth: usize::MAX,
        ..roomy()
    };
    let env = Env::new().limits(limits);
    let err = compile_err(&env, &format!("{}true", "!".repeat(100_000)));
    assert_eq!(err.kind, CompileErrorKind::Limit);
    // The deepest accepted rule still checks and evaluates on a default-sized stack.
    let src = format!("{}true", "!".repeat(48));
    assert_eq!(
        env.compile(&src).unwrap().evaluate(&Activation::new()),
        Ok(Value::Bool(true))
    );
}

#[test]
fn long_flat_chains_are_bounded_too() {
    let env = Env::new().variable("x", Type::Dyn).limits(roomy());
    let err = compile_err(&env, &vec!["1"; 50_000].join(" + "));
    assert_eq!(err.kind, CompileErrorKind::Limit);
    let err = compile_err(&env, &format!("x{}", ".f".repeat(50_000)));
    assert_eq!(err.kind, CompileErrorKind::Limit);
    let src = vec!["1"; 199].join(" + ");
    assert_eq!(
        env.compile(&src).unwrap().evaluate(&Activation::new()),
        Ok(Value::Int(199))
    );
}

#[test]
fn long_lists_of_conditions_are_balanced_and_accepted() {
    let env = Env::new().variable("n", Type::Int);
    let src = (0..200)
        .map(|i| format!("n!={i}"))
        .collect::<Vec<_>>()
        .join("&&");
    let mut a = Activation::new();
    a.bind("n", Value::Int(1000));
    assert_eq!(
        env.compile(&src).unwrap().evaluate(&a),
        Ok(Value::Bool(true))
    );
    a.bind("n", Value::Int(199));
    assert_eq!(
        env.compile(&src).unwrap().evaluate(&a),
        Ok(Value::Bool(false))
    );
}

/// The tallest and deepest shapes the limits let through, compiled and evaluated on a
/// 2 MiB thread (what tokio gives its workers) in an unoptimised build.
#[test]
fn the_worst_accepted_shapes_fit_a_small_stack() {
    let limits = Limits {
        max_depth: usize::MAX,
        ..roomy()
    };
    let env = Env::new().variable("x", Type::Dyn).limits(limits);
    let shapes = [
        vec!["x"; 200].join(" * "),
        vec!["1"; 200].join(" - "),
        format!("x{}", ".f".repeat(199)),
        format!("x{}", "[0]".repeat(199)),
        format!("{}true", "!".repeat(49)),
        format!("{}1{}", "[".repeat(49), "]".repeat(49)),
        format!("{}1{}", "(".repeat(49), ")".repeat(49)),
        format!("{}x{}", "[1].map(y, ".repeat(49), ")".repeat(49)),
        format!("{}x{}", "[1].all(y, ".repeat(49), ")".repeat(49)),
        format!("{}1", "x ? 1 : ".repeat(49)),
        format!("{}x{}", "dyn(".repeat(49), ")".repeat(49)),
        format!("{}x{}", "{1: ".repeat(49), "}".repeat(49)),
        format!("{}x{}", "(x + 1) * (".repeat(49), ")".repeat(49)),
        format!("[1]{}", ".map(y, y)".repeat(198)),
        format!("[1]{}", ".filter(y, y > 0)".repeat(198)),
        format!("'A'{}", ".lowerAscii()".repeat(199)),
    ];
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let mut a = Activation::new();
            a.bind("x", Value::Int(2));
            for src in &shapes {
                let program = env
                    .compile(src)
                    .unwrap_or_else(|e| panic!("{}: {e}", &src[..20]));
                drop(program.evaluate(&a));
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn source_length_and_node_count_are_limited() {
    let env = Env::new();
    let err = compile_err(&env, &format!("'{}'", "a".repeat(5000)));
    assert_eq!(
        (err.kind, err.line, err.column),
        (CompileErrorKind::Limit, 1, 1)
    );
    let many = format!("[{}]", vec!["1"; 1500].join(","));
    assert!(many.len() < 4096);
    let err = compile_err(&env, &many);
    assert_eq!(err.kind, CompileErrorKind::Limit);
    assert!(err.message.contains("1000"), "{err}");
}

fn range(n: usize) -> String {
    let items: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    format!("[{}]", items.join(","))
}

#[test]
fn nested_comprehensions_run_out_of_budget() {
    let r = range(100);
    let src = format!("{r}.map(x, {r}.map(y, {r}.map(z, x * y * z)))");
    let err = run(&src).unwrap_err();
    assert_eq!(err.kind, EvalErrorKind::CostExceeded);
    // The same shape one level shallower fits the budget.
    let src = format!("{r}.map(x, {r}.map(y, x * y))");
    assert!(run(&src).is_ok());
}

#[test]
fn cost_exceeded_is_not_absorbed_by_logic() {
    let r = range(100);
    let src = format!("false && {r}.all(x, {r}.all(y, {r}.all(z, true)))");
    assert_eq!(run(&src), Ok(Value::Bool(false)));
    let src = format!("{r}.all(x, {r}.all(y, {r}.all(z, true))) && false");
    assert_eq!(run(&src).unwrap_err().kind, EvalErrorKind::CostExceeded);
}

#[test]
fn string_doubling_through_macros_hits_the_size_limit() {
    let src = format!("['ab']{}", ".map(s, s + s)".repeat(20));
    let err = run(&src).unwrap_err();
    assert_eq!(err.kind, EvalErrorKind::LimitExceeded);
    assert!(err.message.contains("65536"), "{err}");
}

#[test]
fn list_doubling_hits_the_size_limit() {
    let src = format!("[[1]]{}", ".map(l, l + l)".repeat(20));
    let err = run(&src).unwrap_err();
    assert_eq!(err.kind, EvalErrorKind::LimitExceeded);
}

#[test]
fn string_work_is_charged_by_length() {
    let env = Env::new().variable("s", Type::String);
    let mut big = Activation::new();
    big.bind("s", Value::from("x".repeat(60_000)));
    let mut small = Activation::new();
    small.bind("s", Value::from("short"));
    for body in [
        "!s.contains('y')",
        "s <= s",
        "s == s",
        "s.size() > 0",
        "s.upperAscii() != ''",
    ] {
        let src = format!("{}.all(i, {body})", range(100));
        let program = env.compile(&src).unwrap();
        let err = program.evaluate(&big).unwrap_err();
        assert_eq!(err.kind, EvalErrorKind::CostExceeded, "{body}");
        assert_eq!(program.evaluate(&small), Ok(Value::Bool(true)), "{body}");
    }
}

#[test]
fn huge_inputs_cost_per_element() {
    let env = Env::new().variable("xs", Type::list(Type::Int));
    let mut a = Activation::new();
    a.bind("xs", Value::list((0..1_000_000).map(Value::Int)));
    for src in ["xs.all(v, v >= 0)", "xs == xs", "-1 in xs"] {
        let err = env.compile(src).unwrap().evaluate(&a).unwrap_err();
        assert_eq!(err.kind, EvalErrorKind::CostExceeded, "{src}");
    }
}

#[test]
fn programs_are_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Program>();
    assert_send_sync::<Env>();
    let env = support::scoring_env();
    let program = env
        .compile_condition("score.monthly_profit > 500.0 && change.frequency_drop > 0.3")
        .unwrap();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let program = &program;
                scope.spawn(move || {
                    let mut fired = 0;
                    for i in 0..200 {
                        let mut a = support::activation();
                        let profit = f64::from(t * 200 + i);
                        a.bind(
                            "score",
                            Value::object([("monthly_profit", Value::from(profit))]),
                        );
                        if program.evaluate_bool(&a).unwrap() {
                            fired += 1;
                        }
                    }
                    fired
                })
            })
            .collect();
        let fired: i32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(fired, 1600 - 501);
    });
}

/// A value built cheaply from shared lists can be astronomically large when
/// printed; an error naming it must not print it all (found in review: a
/// failed map lookup used to render the whole key).
#[test]
fn errors_never_render_a_whole_value() {
    let env = Env::new();
    let mut built = "[0]".to_owned();
    for _ in 0..12 {
        built = format!("[{built}].map(a, [a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a])");
    }
    let src = format!("dyn({{}})[{built}] == 1");
    let program = env.compile(&src).expect("within every static limit");
    let err = program
        .evaluate(&Activation::new())
        .expect_err("no such key");
    assert_eq!(err.kind, EvalErrorKind::NoSuchKey, "{err:?}");
    assert!(err.message.len() < 200, "{} bytes", err.message.len());
    assert!(err.message.ends_with('…'), "{}", err.message);
}

#[test]
fn previews_are_short_and_whole_when_small() {
    assert_eq!(Value::from(42i64).preview(), "42");
    assert_eq!(Value::from("hi").preview(), "\"hi\"");
    let long = Value::from("x".repeat(10_000));
    let p = long.preview();
    assert!(p.len() < 100 && p.ends_with('…'), "{p}");
}
