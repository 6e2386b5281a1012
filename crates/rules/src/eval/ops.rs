//! Runtime operators: checked integer arithmetic, IEEE doubles, CEL's heterogeneous
//! numeric comparison and equality.

use std::cmp::Ordering;

use super::index::lookup;
use super::{EResult, Eval, mismatch};
use crate::ast::BinaryOp;
use crate::error::{EvalErrorKind, Fault};
use crate::value::Value;

fn no_overload(op: BinaryOp, l: &Value, r: &Value, at: usize) -> Fault {
    mismatch(
        at,
        format!(
            "no matching overload for '{}' applied to ({}, {})",
            op.symbol(),
            l.type_name(),
            r.type_name()
        ),
    )
}

pub(super) fn binary(ev: &mut Eval<'_>, op: BinaryOp, l: &Value, r: &Value, at: usize) -> EResult {
    use BinaryOp::*;
    if let (Lt | Le | Gt | Ge, Value::String(a), Value::String(b)) = (op, l, r) {
        ev.charge_bytes(a.len().min(b.len()), at)?;
    }
    let ordered = |want: fn(Ordering) -> bool| -> EResult {
        match compare(l, r) {
            Ok(ord) => Ok(Value::Bool(ord.is_some_and(want))),
            Err(()) => Err(no_overload(op, l, r, at)),
        }
    };
    match op {
        Eq => equal(ev, l, r, at).map(Value::Bool),
        Ne => equal(ev, l, r, at).map(|b| Value::Bool(!b)),
        Lt => ordered(|o| o == Ordering::Less),
        Le => ordered(|o| o != Ordering::Greater),
        Gt => ordered(|o| o == Ordering::Greater),
        Ge => ordered(|o| o != Ordering::Less),
        In => contains(ev, r, l, at).map(Value::Bool),
        Add => add(ev, l, r, at),
        Sub | Mul | Div | Rem => arithmetic(op, l, r, at),
        And | Or => unreachable!("logical operators short-circuit in Eval::logic"),
    }
}

fn add(ev: &mut Eval<'_>, l: &Value, r: &Value, at: usize) -> EResult {
    match (l, r) {
        (Value::String(a), Value::String(b)) => {
            let len = a.len() + b.len();
            ev.check_string_len(len, at)?;
            ev.charge_bytes(len, at)?;
            Ok(Value::from(format!("{a}{b}")))
        }
        (Value::List(a), Value::List(b)) => {
            let len = a.len() + b.len();
            ev.check_list_len(len, at)?;
            ev.charge(len as u64, at)?;
            Ok(Value::List(a.iter().chain(b.iter()).cloned().collect()))
        }
        _ => arithmetic(BinaryOp::Add, l, r, at),
    }
}

fn arithmetic(op: BinaryOp, l: &Value, r: &Value, at: usize) -> EResult {
    use BinaryOp::*;
    let overflow = || {
        Fault::new(
            EvalErrorKind::Overflow,
            at,
            format!("integer overflow in '{}'", op.symbol()),
        )
    };
    let by_zero = || {
        let what = if op == Div { "division" } else { "modulus" };
        Fault::new(EvalErrorKind::DivisionByZero, at, format!("{what} by zero"))
    };
    let zero_divisor = matches!(
        (l, r),
        (Value::Int(_), Value::Int(0)) | (Value::Uint(_), Value::Uint(0))
    );
    if matches!(op, Div | Rem) && zero_divisor {
        return Err(by_zero());
    }
    // The same checked operations on either integer type.
    macro_rules! checked {
        ($a:expr, $b:expr) => {
            match op {
                Add => $a.checked_add($b),
                Sub => $a.checked_sub($b),
                Mul => $a.checked_mul($b),
                Div => $a.checked_div($b),
                _ => $a.checked_rem($b),
            }
        };
    }
    match (l, r) {
        (Value::Int(a), Value::Int(b)) => checked!(a, *b).map(Value::Int).ok_or_else(overflow),
        (Value::Uint(a), Value::Uint(b)) => checked!(a, *b).map(Value::Uint).ok_or_else(overflow),
        (Value::Double(a), Value::Double(b)) if op != Rem => Ok(Value::Double(match op {
            Add => a + b,
            Sub => a - b,
            Mul => a * b,
            _ => a / b,
        })),
        _ => Err(no_overload(op, l, r, at)),
    }
}

/// Ordering across int, uint and double (CEL's heterogeneous comparison), strings by
/// bytes and bools; `Ok(None)` for NaN, `Err` for types that do not order.
pub(super) fn compare(l: &Value, r: &Value) -> Result<Option<Ordering>, ()> {
    Ok(match (l, r) {
        (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
        (Value::Uint(a), Value::Uint(b)) => Some(a.cmp(b)),
        (Value::Double(a), Value::Double(b)) => a.partial_cmp(b),
        (Value::Int(a), Value::Uint(b)) => Some(if *a < 0 {
            Ordering::Less
        } else {
            (*a as u64).cmp(b)
        }),
        (Value::Uint(_), Value::Int(_)) => compare(r, l)?.map(Ordering::reverse),
        (Value::Int(a), Value::Double(b)) => (*a as f64).partial_cmp(b),
        (Value::Uint(a), Value::Double(b)) => (*a as f64).partial_cmp(b),
        (Value::Double(_), Value::Int(_) | Value::Uint(_)) => compare(r, l)?.map(Ordering::reverse),
        (Value::String(a), Value::String(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        _ => return Err(()),
    })
}

/// CEL equality: numbers compare by value across types, containers element-wise, values
/// of different kinds are simply unequal. Charged per element so huge values cost.
pub(super) fn equal(ev: &mut Eval<'_>, l: &Value, r: &Value, at: usize) -> Result<bool, Fault> {
    ev.charge(1, at)?;
    Ok(match (l, r) {
        (Value::Null, Value::Null) => true,
        (Value::String(a), Value::String(b)) => {
            ev.charge_bytes(a.len().min(b.len()), at)?;
            a == b
        }
        (Value::List(a), Value::List(b)) => {
            if a.len() != b.len() {
                return Ok(false);
            }
            for (x, y) in a.iter().zip(b.iter()) {
                if !equal(ev, x, y, at)? {
                    return Ok(false);
                }
            }
            true
        }
        (Value::Map(a), Value::Map(b)) => {
            if a.len() != b.len() {
                return Ok(false);
            }
            for (k, v) in a.iter() {
                match lookup(b, &Value::from(k.clone())) {
                    Some(w) if equal(ev, v, w, at)? => {}
                    _ => return Ok(false),
                }
            }
            true
        }
        _ => matches!(compare(l, r), Ok(Some(Ordering::Equal))),
    })
}

fn contains(ev: &mut Eval<'_>, container: &Value, item: &Value, at: usize) -> Result<bool, Fault> {
    match container {
        Value::List(items) => {
            for x in items.iter() {
                if equal(ev, x, item, at)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::Map(m) => Ok(lookup(m, item).is_some()),
        other => Err(mismatch(
            at,
            format!("'in' needs a list or a map, not {}", other.type_name()),
        )),
    }
}
