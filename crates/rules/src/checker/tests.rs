use std::collections::BTreeMap;

use super::*;
use crate::limits::Limits;
use crate::parser::parse;
use crate::types::ObjectType;

fn vars() -> BTreeMap<String, Type> {
    let obj = ObjectType::new("Thing")
        .field("n", Type::Int)
        .field(
            "inner",
            Type::object(ObjectType::new("Inner").field("s", Type::String)),
        )
        .field("tags", Type::map(Type::String, Type::String));
    BTreeMap::from([
        ("t".to_owned(), Type::object(obj)),
        ("x".to_owned(), Type::Dyn),
        ("xs".to_owned(), Type::list(Type::Int)),
    ])
}

fn checked(src: &str) -> Result<Checked, CompileError> {
    let mut e = parse(src, &Limits::default()).unwrap();
    check(src, &mut e, &vars())
}

fn ty(src: &str) -> Type {
    checked(src)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .result_type
}

fn refs(src: &str) -> Vec<String> {
    checked(src).unwrap().references.into_iter().collect()
}

#[test]
fn infers_types() {
    assert_eq!(ty("1 + 2"), Type::Int);
    assert_eq!(ty("[1, 2]"), Type::list(Type::Int));
    assert_eq!(ty("[1, 'a']"), Type::list(Type::Dyn));
    assert_eq!(ty("[]"), Type::list(Type::Dyn));
    assert_eq!(ty("{'a': 1, 'b': 'c'}"), Type::map(Type::String, Type::Dyn));
    assert_eq!(ty("true ? 1 : 'a'"), Type::Dyn);
    assert_eq!(ty("true ? [1] : [2]"), Type::list(Type::Int));
    assert_eq!(ty("x.anything[0]"), Type::Dyn);
    assert_eq!(ty("x + 1"), Type::Int);
    assert_eq!(ty("x + x"), Type::Dyn);
    assert_eq!(ty("t.inner.s.size()"), Type::Int);
    assert_eq!(ty("t.tags.region"), Type::String);
    assert_eq!(
        ty("xs.map(v, double(v) * 2.0 > 1.0)"),
        Type::list(Type::Bool)
    );
    assert_eq!(ty("xs.filter(v, v > 0)"), Type::list(Type::Int));
    assert_eq!(ty("t.tags.map(k, k.size())"), Type::list(Type::Int));
    assert_eq!(ty("dyn(1)"), Type::Dyn);
    assert_eq!(ty("1 == 1.0 && 1u < 2"), Type::Bool);
}

#[test]
fn comprehension_variables_shadow_and_go_out_of_scope() {
    assert_eq!(ty("xs.map(t, t + 1)"), Type::list(Type::Int));
    let e = checked("xs.all(v, v > 0) && v > 0").err().unwrap();
    assert!(e.message.contains("undeclared reference to 'v'"), "{e}");
}

#[test]
fn select_on_objects_is_marked_and_checked() {
    let src = "t.inner.s";
    let mut e = parse(src, &Limits::default()).unwrap();
    check(src, &mut e, &vars()).unwrap();
    assert!(matches!(
        e.kind,
        ExprKind::Select {
            on_object: true,
            ..
        }
    ));
    let e = checked("t.inner.z").err().unwrap();
    assert_eq!(
        e.message,
        "type 'Inner' has no field 'z' (did you mean 's'?)"
    );
    assert_eq!(e.column, 9);
    let e = checked("has(t.nope)").err().unwrap();
    assert!(e.message.contains("no field 'nope'"), "{e}");
}

#[test]
fn references_follow_object_paths_only() {
    assert_eq!(refs("t.inner.s == 'a' && t.n > 1"), ["t.inner.s", "t.n"]);
    assert_eq!(refs("t.tags.region == 'x'"), ["t.tags"]);
    assert_eq!(refs("has(t.inner.s)"), ["t.inner.s"]);
    assert_eq!(refs("t == t"), ["t"]);
    assert_eq!(refs("xs.map(t, t)"), ["xs"]);
    assert_eq!(refs("x.a.b"), ["x"]);
    assert!(refs("1 + 1").is_empty());
}

#[test]
fn refuses_what_does_not_fit() {
    for src in [
        "1 + 'a'",
        "1 + 1.0",
        "xs + [1.0]",
        "-'a'",
        "!1",
        "xs[1.5]",
        "t[0]",
        "1.f",
        "size(1)",
        "'a'.contains()",
        "int(xs)",
        "1 in 1",
        "t.n.all(v, true)",
        "xs.all(v, v)",
        "xs.map(v, v, v)",
        "{[1]: 2}",
        "'a' < 1",
        "[1] < [2]",
        "null < null",
        "1 == 'a'",
    ] {
        let got = checked(src);
        assert!(
            matches!(&got, Err(e) if e.kind == CompileErrorKind::Type),
            "{src} should not type-check"
        );
    }
}
