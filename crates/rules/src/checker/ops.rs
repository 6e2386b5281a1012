//! Operator overloads as the checker sees them. Errors are messages; the caller
//! positions them at the operator.

use crate::ast::{BinaryOp, Expr, ExprKind, UnaryOp};
use crate::types::Type;

pub(super) fn unary(op: UnaryOp, t: &Type) -> Result<Type, String> {
    match (op, t) {
        (UnaryOp::Not, Type::Bool | Type::Dyn) => Ok(Type::Bool),
        (UnaryOp::Neg, Type::Int | Type::Double | Type::Dyn) => Ok(t.clone()),
        (UnaryOp::Not, _) => Err(format!("no matching overload for '!' applied to ({t})")),
        (UnaryOp::Neg, _) => Err(format!("no matching overload for '-' applied to ({t})")),
    }
}

fn no_overload(op: BinaryOp, l: &Type, r: &Type) -> String {
    format!(
        "no matching overload for '{}' applied to ({l}, {r})",
        op.symbol()
    )
}

/// CEL never converts numbers implicitly; tell the author how to write what they meant.
fn mixed_numbers(op: BinaryOp, l: &Type, r: &Type, le: &Expr, re: &Expr) -> String {
    let literal = [(le, r), (re, l)]
        .into_iter()
        .find_map(|(e, other)| match (&e.kind, other) {
            (ExprKind::Int(n), Type::Double) => Some(format!("write {n}.0 instead of {n}")),
            (ExprKind::Uint(n), Type::Double) => Some(format!("write {n}.0 instead of {n}u")),
            (ExprKind::Int(n), Type::Uint) if *n >= 0 => Some(format!("write {n}u instead of {n}")),
            (ExprKind::Uint(n), Type::Int) => Some(format!("write {n} instead of {n}u")),
            _ => None,
        });
    let fix = literal.unwrap_or_else(|| {
        "use numbers of one type, e.g. 500.0 for a double, or convert with double(), int() or uint()"
            .to_owned()
    });
    format!(
        "{}: numbers of different types are not converted implicitly; {fix}",
        no_overload(op, l, r)
    )
}

pub(super) fn binary(
    op: BinaryOp,
    l: &Type,
    r: &Type,
    le: &Expr,
    re: &Expr,
) -> Result<Type, String> {
    use BinaryOp::*;
    match op {
        And | Or => {
            if matches!(l, Type::Bool | Type::Dyn) && matches!(r, Type::Bool | Type::Dyn) {
                Ok(Type::Bool)
            } else {
                Err(no_overload(op, l, r))
            }
        }
        Eq | Ne => {
            if l.comparable(r) {
                Ok(Type::Bool)
            } else {
                Err(no_overload(op, l, r))
            }
        }
        Lt | Le | Gt | Ge => {
            let orderable =
                |t: &Type| t.is_numeric() || matches!(t, Type::String | Type::Bool | Type::Dyn);
            let ok = match (l, r) {
                (Type::Dyn, t) | (t, Type::Dyn) => orderable(t),
                (a, b) if a.is_numeric() && b.is_numeric() => true,
                (a, b) => a == b && orderable(a),
            };
            if ok {
                Ok(Type::Bool)
            } else {
                Err(no_overload(op, l, r))
            }
        }
        In => {
            let ok = match r {
                Type::List(e) => l.comparable(e),
                Type::Map(k, _) => l.comparable(k),
                Type::Dyn => true,
                _ => false,
            };
            if ok {
                Ok(Type::Bool)
            } else {
                Err(no_overload(op, l, r))
            }
        }
        Add | Sub | Mul | Div | Rem => arithmetic(op, l, r, le, re),
    }
}

fn arithmetic(op: BinaryOp, l: &Type, r: &Type, le: &Expr, re: &Expr) -> Result<Type, String> {
    let supports = |t: &Type| match t {
        Type::Int | Type::Uint => true,
        Type::Double => op != BinaryOp::Rem,
        Type::String | Type::List(_) => op == BinaryOp::Add,
        _ => false,
    };
    match (l, r) {
        (Type::Dyn, Type::Dyn) => Ok(Type::Dyn),
        (Type::Dyn, t) | (t, Type::Dyn) if supports(t) => Ok(match t {
            Type::List(_) => Type::list(Type::Dyn),
            _ => t.clone(),
        }),
        (Type::List(a), Type::List(b))
            if op == BinaryOp::Add && (a == b || **a == Type::Dyn || **b == Type::Dyn) =>
        {
            Ok(Type::list(a.join(b)))
        }
        (a, b) if a == b && supports(a) => Ok(a.clone()),
        (a, b) if a.is_numeric() && b.is_numeric() && supports(a) && supports(b) => {
            Err(mixed_numbers(op, l, r, le, re))
        }
        _ => Err(no_overload(op, l, r)),
    }
}
