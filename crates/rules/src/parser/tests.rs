use super::*;
use crate::ast::UnaryOp;

/// An s-expression rendering of the tree, to assert its shape.
fn show(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Null => "null".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Uint(u) => format!("{u}u"),
        ExprKind::Double(d) => format!("{d:?}"),
        ExprKind::String(s) => format!("{s:?}"),
        ExprKind::Ident(n) => n.clone(),
        ExprKind::Select { operand, field, .. } => format!("{}.{field}", show(operand)),
        ExprKind::Has { operand, field } => format!("has({}.{field})", show(operand)),
        ExprKind::Index { operand, index } => format!("{}[{}]", show(operand), show(index)),
        ExprKind::Call {
            function,
            target,
            args,
        } => {
            let args: Vec<String> = args.iter().map(show).collect();
            match target {
                Some(t) => format!("{}.{function}({})", show(t), args.join(", ")),
                None => format!("{function}({})", args.join(", ")),
            }
        }
        ExprKind::Unary { op, operand } => {
            format!(
                "({}{})",
                if *op == UnaryOp::Not { "!" } else { "-" },
                show(operand)
            )
        }
        ExprKind::Binary { op, left, right } => {
            format!("({} {} {})", show(left), op.symbol(), show(right))
        }
        ExprKind::Conditional {
            cond,
            then,
            otherwise,
        } => format!("({} ? {} : {})", show(cond), show(then), show(otherwise)),
        ExprKind::List(items) => {
            format!(
                "[{}]",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            )
        }
        ExprKind::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", show(k), show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ExprKind::Comprehension(c) => {
            let (kind, range, var, body) = (c.kind, &c.range, &c.var, &c.body);
            let t = c
                .transform
                .as_ref()
                .map(|t| format!(", {}", show(t)))
                .unwrap_or_default();
            format!("{}.{}({var}, {}{t})", show(range), kind.name(), show(body))
        }
    }
}

fn p(src: &str) -> String {
    show(&parse(src, &Limits::default()).unwrap())
}

fn err(src: &str) -> CompileError {
    parse(src, &Limits::default()).unwrap_err()
}

#[test]
fn precedence_follows_cel() {
    assert_eq!(p("1 + 2 * 3 - 4"), "((1 + (2 * 3)) - 4)");
    assert_eq!(p("a || b && c"), "(a || (b && c))");
    assert_eq!(p("a < b == c"), "((a < b) == c)");
    assert_eq!(p("!a.b"), "(!a.b)");
    assert_eq!(p("-x[0]"), "(-x[0])");
    assert_eq!(p("a ? b : c ? d : e"), "(a ? b : (c ? d : e))");
    assert_eq!(p("a || b ? 1 : 2"), "((a || b) ? 1 : 2)");
    assert_eq!(p("x in [1] && y"), "((x in [1]) && y)");
    assert_eq!(p("a.b.c(1).d[2]"), "a.b.c(1).d[2]");
    assert_eq!(p(".a"), "a");
}

#[test]
fn logical_chains_are_balanced() {
    assert_eq!(p("a && b && c && d"), "((a && b) && (c && d))");
    assert_eq!(p("a || b || c"), "(a || (b || c))");
    let e = parse(&vec!["a"; 256].join(" && "), &Limits::default()).unwrap();
    assert_eq!(e.height, 9);
}

#[test]
fn negative_literals_fold_but_not_before_members() {
    assert_eq!(p("-9223372036854775808"), "-9223372036854775808");
    assert_eq!(p("-1.5"), "-1.5");
    assert_eq!(p("-x"), "(-x)");
    assert_eq!(p("-1.size()"), "(-1.size())");
    assert_eq!(err("9223372036854775808").kind, CompileErrorKind::Syntax);
}

#[test]
fn macros_and_has() {
    assert_eq!(p("xs.all(x, x > 0)"), "xs.all(x, (x > 0))");
    assert_eq!(p("xs.map(x, x > 0, x * 2)"), "xs.map(x, (x > 0), (x * 2))");
    assert_eq!(p("has(a.b.c)"), "has(a.b.c)");
    // Not a macro shape: left as an ordinary call for the checker to refuse.
    assert_eq!(p("xs.map(x)"), "xs.map(x)");
    assert_eq!(p("all(x, y)"), "all(x, y)");
    assert_eq!(err("xs.all(x.y, true)").kind, CompileErrorKind::Syntax);
    assert_eq!(err("has(a)").kind, CompileErrorKind::Syntax);
    assert_eq!(err("has(a.b, c.d)").kind, CompileErrorKind::Syntax);
}

#[test]
fn literals_and_trailing_commas() {
    assert_eq!(p("[1, 2u, 'a', null, true,]"), "[1, 2u, \"a\", null, true]");
    assert_eq!(p("{'a': 1, 2: [],}"), "{\"a\": 1, 2: []}");
    assert_eq!(p("f()"), "f()");
}

#[test]
fn syntax_errors_point_at_the_token() {
    let e = err("a +* b");
    assert_eq!((e.kind, e.column), (CompileErrorKind::Syntax, 4));
    assert_eq!(e.message, "expected an expression but found '*'");
    assert_eq!(err("[1 2]").column, 4);
    assert_eq!(err("{1 2}").column, 4);
    assert_eq!(
        err("a b").message,
        "expected end of expression but found 'b'"
    );
    assert_eq!(
        err("").message,
        "expected an expression but found end of expression"
    );
    assert_eq!(err("f(1,").kind, CompileErrorKind::Syntax);
    assert_eq!(err("x.1").kind, CompileErrorKind::Syntax);
}

#[test]
fn limits_are_limit_errors() {
    let tight = Limits {
        max_depth: 3,
        max_nodes: 5,
        max_source_len: 20,
        ..Limits::default()
    };
    assert!(parse("((1))", &tight).is_ok());
    assert_eq!(
        parse("(((1)))", &tight).unwrap_err().kind,
        CompileErrorKind::Limit
    );
    assert_eq!(
        parse("!!!a", &tight).unwrap_err().kind,
        CompileErrorKind::Limit
    );
    assert_eq!(
        parse("[1, 2, 3, 4, 5]", &tight).unwrap_err().kind,
        CompileErrorKind::Limit
    );
    assert_eq!(
        parse("'aaaaaaaaaaaaaaaaaaaaaa'", &tight).unwrap_err().kind,
        CompileErrorKind::Limit
    );
}
