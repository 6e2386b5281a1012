//! Compile errors name the problem and point at the offending token.

mod support;

use rapport_rules::CompileErrorKind;
use support::scoring_env;

/// (source, kind, line, column, text the message must contain)
const CASES: &[(&str, CompileErrorKind, u32, u32, &str)] = &[
    (
        "score.montly_profit > 1.0",
        CompileErrorKind::Type,
        1,
        7,
        "did you mean 'monthly_profit'",
    ),
    (
        "scor.tier == 'a'",
        CompileErrorKind::Type,
        1,
        1,
        "undeclared reference to 'scor' (did you mean 'score'?)",
    ),
    (
        "score.tier == 1",
        CompileErrorKind::Type,
        1,
        12,
        "no matching overload for '==' applied to (string, int)",
    ),
    (
        "score.recency_days + 1.5 > 0.0",
        CompileErrorKind::Type,
        1,
        20,
        "convert with double()",
    ),
    (
        "score.monthly_profit > 500.0 &&\n  change.frequncy_drop > 0.3",
        CompileErrorKind::Type,
        2,
        10,
        "type 'Change' has no field 'frequncy_drop' (did you mean 'frequency_drop'?)",
    ),
    (
        "score.tier.size() > 0 &&\n\tevent.kind == 'x' &&\n   customer.wat",
        CompileErrorKind::Type,
        3,
        13,
        "type 'Customer' has no field 'wat'",
    ),
    (
        "system('ls')",
        CompileErrorKind::Type,
        1,
        1,
        "unknown function 'system'",
    ),
    (
        "env('HOME') == ''",
        CompileErrorKind::Type,
        1,
        1,
        "unknown function 'env'",
    ),
    (
        "read('/etc/passwd')",
        CompileErrorKind::Type,
        1,
        1,
        "unknown function 'read'",
    ),
    (
        "1 == 1 && http.get('http://evil')",
        CompileErrorKind::Type,
        1,
        16,
        "unknown method 'http.get'",
    ),
    (
        "score.tier.startswith('g')",
        CompileErrorKind::Type,
        1,
        12,
        "did you mean 'startsWith'",
    ),
    (
        "event.kind.matches('.*')",
        CompileErrorKind::Type,
        1,
        12,
        "regular expressions",
    ),
    (
        "score.tier.contains(1)",
        CompileErrorKind::Type,
        1,
        12,
        "(string).contains(int)",
    ),
    (
        "customer.tags[0] + 1",
        CompileErrorKind::Type,
        1,
        18,
        "applied to (string, int)",
    ),
    (
        "customer.tags['a']",
        CompileErrorKind::Type,
        1,
        14,
        "a list index must be int",
    ),
    (
        "score['tier']",
        CompileErrorKind::Type,
        1,
        6,
        "read with '.field'",
    ),
    (
        "score.recency_days.days",
        CompileErrorKind::Type,
        1,
        20,
        "type 'int' has no fields",
    ),
    (
        "customer.tags.all(t, t)",
        CompileErrorKind::Type,
        1,
        22,
        "the predicate of all() is string, not bool",
    ),
    (
        "score.tier ? 1 : 2",
        CompileErrorKind::Type,
        1,
        12,
        "the condition of '?:' is string",
    ),
    (
        "-score.tier",
        CompileErrorKind::Type,
        1,
        1,
        "'-' applied to (string)",
    ),
    (
        "score.monthly_profit >",
        CompileErrorKind::Syntax,
        1,
        23,
        "expected an expression but found end of expression",
    ),
    (
        "score.tier == 'gold",
        CompileErrorKind::Syntax,
        1,
        15,
        "unterminated string",
    ),
    (
        "score.tier = 'gold'",
        CompileErrorKind::Syntax,
        1,
        12,
        "use '=='",
    ),
    (
        "(score.tier == 'a'",
        CompileErrorKind::Syntax,
        1,
        19,
        "expected ')'",
    ),
    (
        "score.",
        CompileErrorKind::Syntax,
        1,
        7,
        "a field or method name",
    ),
    (
        "'é' == 'é' && ghost",
        CompileErrorKind::Type,
        1,
        15,
        "undeclared reference to 'ghost'",
    ),
];

#[test]
fn errors_have_exact_positions_and_helpful_messages() {
    let env = scoring_env();
    for (src, kind, line, column, text) in CASES {
        let err = env.compile(src).expect_err(src);
        assert_eq!(
            (err.kind, err.line, err.column),
            (*kind, *line, *column),
            "{src}: {err}"
        );
        assert!(err.message.contains(text), "{src}: {err}");
        assert_eq!(
            err.to_string(),
            format!("line {line}, column {column}: {}", err.message)
        );
    }
}

#[test]
fn offsets_are_bytes_and_columns_are_characters() {
    let err = scoring_env().compile("'ééé' == nope").unwrap_err();
    assert_eq!(err.column, 10);
    assert_eq!(err.offset, 12);
}

#[test]
fn compile_error_is_a_std_error() {
    let err: Box<dyn std::error::Error> = Box::new(scoring_env().compile("nope").unwrap_err());
    assert!(err.to_string().contains("nope"));
}
