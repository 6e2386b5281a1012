//! CEL conformance table: expression, expected value or error kind.

use rapport_rules::{Activation, CompileErrorKind as C, Env, EvalErrorKind as E, Type, Value};

enum Want {
    V(Value),
    Eval(E),
    Compile(C),
}

fn i(v: i64) -> Want {
    Want::V(Value::Int(v))
}
fn u(v: u64) -> Want {
    Want::V(Value::Uint(v))
}
fn d(v: f64) -> Want {
    Want::V(Value::Double(v))
}
fn s(v: &str) -> Want {
    Want::V(Value::from(v))
}
fn b(v: bool) -> Want {
    Want::V(Value::Bool(v))
}
fn l(items: Vec<Value>) -> Want {
    Want::V(Value::list(items))
}
fn ints(items: &[i64]) -> Want {
    l(items.iter().map(|v| Value::Int(*v)).collect())
}

fn env() -> Env {
    Env::new()
        .variable("x", Type::Dyn)
        .variable("n", Type::Int)
        .variable("m", Type::map(Type::String, Type::Int))
}

fn activation() -> Activation {
    let mut a = Activation::new();
    a.bind("x", Value::from(3i64))
        .bind("n", Value::from(7i64))
        .bind(
            "m",
            Value::map([("a".into(), Value::Int(1)), ("b".into(), Value::Int(2))]),
        );
    a
}

fn cases() -> Vec<(&'static str, Want)> {
    use Want::*;
    vec![
        // Literals.
        ("1", i(1)),
        ("-1", i(-1)),
        ("0x1F", i(31)),
        ("-0x10", i(-16)),
        ("1u", u(1)),
        ("0xFFu", u(255)),
        ("1.5", d(1.5)),
        ("1e3", d(1000.0)),
        ("2.5e-1", d(0.25)),
        (".5", d(0.5)),
        ("'single'", s("single")),
        ("\"double\"", s("double")),
        ("'esc\\n\\t\\\\'", s("esc\n\t\\")),
        ("'\\u00e9\\x41\\101'", s("éAA")),
        ("r'raw\\n'", s("raw\\n")),
        ("'''tri'ple'''", s("tri'ple")),
        ("true", b(true)),
        ("false", b(false)),
        ("null", V(Value::Null)),
        ("[]", l(vec![])),
        ("[1, 2, 3,]", ints(&[1, 2, 3])),
        ("{'a': 1}['a']", i(1)),
        ("{}.size()", i(0)),
        ("-9223372036854775808", i(i64::MIN)),
        ("9223372036854775807", i(i64::MAX)),
        ("9223372036854775808", Compile(C::Syntax)),
        ("18446744073709551615u", u(u64::MAX)),
        // Precedence and associativity.
        ("1 + 2 * 3", i(7)),
        ("(1 + 2) * 3", i(9)),
        ("10 - 4 - 3", i(3)),
        ("100 / 10 / 5", i(2)),
        ("7 % 4 * 2", i(6)),
        ("-2 * 3", i(-6)),
        ("!true || true", b(true)),
        ("!(true || true)", b(false)),
        ("true || false && false", b(true)),
        ("1 < 2 == true", b(true)),
        ("1 + 1 == 2 && 2 * 2 == 4", b(true)),
        ("true ? 1 : 2", i(1)),
        ("false ? 1 : true ? 2 : 3", i(2)),
        ("1 < 2 ? 'yes' : 'no'", s("yes")),
        ("!!true", b(true)),
        ("--5", i(5)),
        ("2 in [1, 2] && 'a' in {'a': 1}", b(true)),
        // Short-circuit and commutative error absorption.
        ("false && 1 / 0 == 1", b(false)),
        ("1 / 0 == 1 && false", b(false)),
        ("true || 1 / 0 == 1", b(true)),
        ("1 / 0 == 1 || true", b(true)),
        ("true && 1 / 0 == 1", Eval(E::DivisionByZero)),
        ("1 / 0 == 1 || false", Eval(E::DivisionByZero)),
        ("m.z == 1 || m.a == 1", b(true)),
        ("m.z == 1 && m.a == 1", Eval(E::NoSuchKey)),
        ("m.z == 1 && m.a == 2", b(false)),
        ("x == 'a' || true", b(true)),
        ("dyn(1) && true", Eval(E::TypeMismatch)),
        ("dyn(1) && false", b(false)),
        ("false ? 1 / 0 : 5", i(5)),
        ("true ? 5 : 1 / 0", i(5)),
        // Numbers.
        ("9223372036854775807 + 1", Eval(E::Overflow)),
        ("-9223372036854775808 - 1", Eval(E::Overflow)),
        ("9223372036854775807 * 2", Eval(E::Overflow)),
        ("-9223372036854775808 / -1", Eval(E::Overflow)),
        ("-9223372036854775808 % -1", Eval(E::Overflow)),
        ("-(-9223372036854775807 - 1)", Eval(E::Overflow)),
        ("0u - 1u", Eval(E::Overflow)),
        ("18446744073709551615u + 1u", Eval(E::Overflow)),
        ("5 / 0", Eval(E::DivisionByZero)),
        ("5 % 0", Eval(E::DivisionByZero)),
        ("5u / 0u", Eval(E::DivisionByZero)),
        ("-7 / 2", i(-3)),
        ("-7 % 2", i(-1)),
        ("7u % 3u", u(1)),
        ("1.0 / 0.0 > 1e308", b(true)),
        ("0.1 + 0.2 > 0.3", b(true)),
        ("1 + 1.0", Compile(C::Type)),
        ("1u + 1", Compile(C::Type)),
        ("2.5 % 2.0", Compile(C::Type)),
        ("-1u", Compile(C::Type)),
        ("1 < 1.5", b(true)),
        ("1u < 2", b(true)),
        ("-1 < 1u", b(true)),
        ("2.0 == 2", b(true)),
        ("2u == 2", b(true)),
        ("3 >= 2.9", b(true)),
        ("0.0 / 0.0 == 0.0 / 0.0", b(false)),
        ("0.0 / 0.0 < 1.0", b(false)),
        ("x + 1", i(4)),
        ("x * 1.5", Eval(E::TypeMismatch)),
        ("n * n", i(49)),
        // Strings.
        ("'ab' + 'cd'", s("abcd")),
        ("'héllo'.size()", i(5)),
        ("size('abc')", i(3)),
        ("'hello'.contains('ell')", b(true)),
        ("'hello'.startsWith('he')", b(true)),
        ("'hello'.endsWith('lo')", b(true)),
        ("'MiXeD'.lowerAscii()", s("mixed")),
        ("'MiXeD'.upperAscii()", s("MIXED")),
        ("'  pad  '.trim()", s("pad")),
        ("'a' < 'b'", b(true)),
        ("'abc' == 'abc'", b(true)),
        ("'b' > 'abc'", b(true)),
        ("'a' + 1", Compile(C::Type)),
        ("'abc'.matches('a.*')", Compile(C::Type)),
        ("'abc'[0]", Compile(C::Type)),
        // Lists.
        ("[1, 2] + [3]", ints(&[1, 2, 3])),
        ("[1, 2, 3][1]", i(2)),
        ("[1, 2, 3][3]", Eval(E::InvalidArgument)),
        ("[1, 2, 3][-1]", Eval(E::InvalidArgument)),
        ("[1, 2, 3].size()", i(3)),
        ("size([])", i(0)),
        ("3 in [1, 2, 3]", b(true)),
        ("4 in [1, 2, 3]", b(false)),
        ("2.0 in [1, 2, 3]", b(true)),
        ("[1, 2] == [1, 2]", b(true)),
        ("[1, 2] != [2, 1]", b(true)),
        ("[1, 'a'][1]", s("a")),
        ("[1, 2]['a']", Compile(C::Type)),
        ("[[1], [2, 3]][1][0]", i(2)),
        // Maps.
        ("m['a']", i(1)),
        ("m.b", i(2)),
        ("m['z']", Eval(E::NoSuchKey)),
        ("m.z", Eval(E::NoSuchKey)),
        ("'a' in m", b(true)),
        ("'z' in m", b(false)),
        ("has(m.a)", b(true)),
        ("has(m.z)", b(false)),
        ("m.size()", i(2)),
        ("{1: 'one', 2u: 'two'}[2]", s("two")),
        ("{1: 'one'}[1.0]", s("one")),
        ("{'a': 1, 'b': 'x'}['b']", s("x")),
        ("{'a': 1, 'a': 2}", Eval(E::InvalidArgument)),
        ("{1.5: 'x'}", Compile(C::Type)),
        ("{'a': 1} == {'a': 1}", b(true)),
        ("{'a': 1} == {'a': 2}", b(false)),
        ("m[1]", Compile(C::Type)),
        // Macros.
        ("[1, 2, 3].all(v, v > 0)", b(true)),
        ("[1, 2, 3].all(v, v > 1)", b(false)),
        ("[1, 2, 3].exists(v, v == 2)", b(true)),
        ("[1, 2, 3].exists(v, v == 5)", b(false)),
        ("[1, 2, 3].exists_one(v, v > 2)", b(true)),
        ("[1, 2, 3].exists_one(v, v > 1)", b(false)),
        ("[1, 2, 3].map(v, v * 2)", ints(&[2, 4, 6])),
        ("[1, 2, 3].map(v, v > 1, v * 10)", ints(&[20, 30])),
        ("[1, 2, 3, 4].filter(v, v % 2 == 0)", ints(&[2, 4])),
        ("[].all(v, v > 0)", b(true)),
        ("[].exists(v, v > 0)", b(false)),
        ("m.all(k, k.size() == 1)", b(true)),
        (
            "m.map(k, k + '!')",
            l(vec![Value::from("a!"), Value::from("b!")]),
        ),
        ("m.filter(k, m[k] > 1)", l(vec![Value::from("b")])),
        ("[0, 1].all(v, 10 / v > 1)", Eval(E::DivisionByZero)),
        ("[0, 1].exists(v, 10 / v > 1)", b(true)),
        ("[1, 0].all(v, 10 / v > 20)", b(false)),
        ("[0, 1].exists_one(v, 10 / v > 1)", Eval(E::DivisionByZero)),
        (
            "[[1, 2], [3]].map(a, a.map(v, v + 1))",
            l(vec![
                Value::list([Value::Int(2), Value::Int(3)]),
                Value::list([Value::Int(4)]),
            ]),
        ),
        (
            "[1, 2].map(v, [3].map(v, v))",
            l(vec![
                Value::list([Value::Int(3)]),
                Value::list([Value::Int(3)]),
            ]),
        ),
        ("[1, 2].all(v, v)", Compile(C::Type)),
        ("5.all(v, true)", Compile(C::Type)),
        ("[1].all(1, true)", Compile(C::Syntax)),
        ("v", Compile(C::Type)),
        // Conversions.
        ("int(2.9)", i(2)),
        ("int(-2.9)", i(-2)),
        ("int('42')", i(42)),
        ("int('4x')", Eval(E::InvalidArgument)),
        ("int(9223372036854775807u)", i(i64::MAX)),
        ("int(9223372036854775808u)", Eval(E::Overflow)),
        ("int(1e19)", Eval(E::Overflow)),
        ("int(0.0 / 0.0)", Eval(E::Overflow)),
        ("uint(-1)", Eval(E::Overflow)),
        ("uint(42)", u(42)),
        ("uint(2.5)", u(2)),
        ("uint(-1.5)", Eval(E::Overflow)),
        ("uint('7')", u(7)),
        ("double(2)", d(2.0)),
        ("double(3u)", d(3.0)),
        ("double('2.5')", d(2.5)),
        ("double('abc')", Eval(E::InvalidArgument)),
        ("string(42)", s("42")),
        ("string(42u)", s("42")),
        ("string(2.5)", s("2.5")),
        ("string(true)", s("true")),
        ("bool('true')", b(true)),
        ("bool('nope')", Eval(E::InvalidArgument)),
        ("dyn(1) + 2", i(3)),
        ("dyn('a') + 2", Eval(E::TypeMismatch)),
        ("dyn([1]) == [1]", b(true)),
        ("int(true)", Compile(C::Type)),
        // Types that do not meet.
        ("1 == 'a'", Compile(C::Type)),
        ("null == null", b(true)),
        ("dyn(1) == 'a'", b(false)),
        ("[1] < [2]", Compile(C::Type)),
        ("!1", Compile(C::Type)),
        ("1 ? 2 : 3", Compile(C::Type)),
        ("1 in 2", Compile(C::Type)),
        // Refused and malformed.
        ("system('ls')", Compile(C::Type)),
        ("env('HOME')", Compile(C::Type)),
        ("read('/etc/passwd')", Compile(C::Type)),
        ("http.get('http://x')", Compile(C::Type)),
        ("timestamp('2020-01-01T00:00:00Z')", Compile(C::Type)),
        ("1 +", Compile(C::Syntax)),
        ("(1", Compile(C::Syntax)),
        ("a = 1", Compile(C::Syntax)),
        ("1 2", Compile(C::Syntax)),
        ("has(m)", Compile(C::Syntax)),
        ("b'bytes'", Compile(C::Syntax)),
        ("if", Compile(C::Syntax)),
    ]
}

#[test]
fn conformance_table() {
    let env = env();
    let a = activation();
    let cases = cases();
    assert!(cases.len() >= 120, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (src, want) in &cases {
        let got = env.compile(src);
        let ok = match (want, &got) {
            (Want::Compile(kind), Err(e)) => e.kind == *kind,
            (Want::Compile(_), Ok(_)) => false,
            (_, Err(_)) => false,
            (Want::V(v), Ok(p)) => p.evaluate(&a).as_ref() == Ok(v),
            (Want::Eval(kind), Ok(p)) => p.evaluate(&a).is_err_and(|e| e.kind == *kind),
        };
        if !ok {
            let shown = got.map(|p| format!("{:?}", p.evaluate(&a)));
            failures.push(format!("{src}: got {shown:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
