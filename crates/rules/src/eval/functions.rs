//! Runtime built-in functions and conversions with range checks.

use super::{EResult, Eval, I64_LIMIT, U64_LIMIT, mismatch};
use crate::error::{EvalErrorKind, Fault};
use crate::value::Value;

pub(super) fn call(
    ev: &mut Eval<'_>,
    name: &str,
    target: Option<Value>,
    args: &[Value],
    at: usize,
) -> EResult {
    let overflow =
        |what: &str| Fault::new(EvalErrorKind::Overflow, at, format!("{what} out of range"));
    let invalid = |msg: String| Fault::new(EvalErrorKind::InvalidArgument, at, msg);
    // A string that does not convert to `to`.
    let unconvertible = |s: &str, to: &str| invalid(format!("cannot convert '{s}' to {to}"));
    // Every built-in reads its string arguments end to end at most once.
    for v in target.iter().chain(args) {
        if let Value::String(s) = v {
            ev.charge_bytes(s.len(), at)?;
        }
    }
    match (name, target.as_ref(), args) {
        ("size", None, [v]) | ("size", Some(v), []) => size(v, at),
        ("contains" | "startsWith" | "endsWith", Some(Value::String(s)), [Value::String(p)]) => {
            Ok(Value::Bool(match name {
                "contains" => s.contains(&**p),
                "startsWith" => s.starts_with(&**p),
                _ => s.ends_with(&**p),
            }))
        }
        ("lowerAscii" | "upperAscii" | "trim", Some(Value::String(s)), []) => {
            Ok(Value::from(match name {
                "lowerAscii" => s.to_ascii_lowercase(),
                "upperAscii" => s.to_ascii_uppercase(),
                _ => s.trim().to_owned(),
            }))
        }
        ("dyn", None, [v]) => Ok(v.clone()),
        ("int", None, [v]) => match v {
            Value::Int(i) => Ok(Value::Int(*i)),
            Value::Uint(u) => i64::try_from(*u)
                .map(Value::Int)
                .map_err(|_| overflow("int")),
            Value::Double(d) if d.is_finite() && *d >= -I64_LIMIT && *d < I64_LIMIT => {
                Ok(Value::Int(*d as i64))
            }
            Value::Double(_) => Err(overflow("int")),
            Value::String(s) => s
                .parse()
                .map(Value::Int)
                .map_err(|_| unconvertible(s, "int")),
            other => Err(no_overload(name, other, at)),
        },
        ("uint", None, [v]) => match v {
            Value::Uint(u) => Ok(Value::Uint(*u)),
            Value::Int(i) => u64::try_from(*i)
                .map(Value::Uint)
                .map_err(|_| overflow("uint")),
            Value::Double(d) if d.is_finite() && *d > -1.0 && *d < U64_LIMIT => {
                Ok(Value::Uint(*d as u64))
            }
            Value::Double(_) => Err(overflow("uint")),
            Value::String(s) => s
                .parse()
                .map(Value::Uint)
                .map_err(|_| unconvertible(s, "uint")),
            other => Err(no_overload(name, other, at)),
        },
        ("double", None, [v]) => match v {
            Value::Double(d) => Ok(Value::Double(*d)),
            Value::Int(i) => Ok(Value::Double(*i as f64)),
            Value::Uint(u) => Ok(Value::Double(*u as f64)),
            Value::String(s) => s
                .parse()
                .map(Value::Double)
                .map_err(|_| unconvertible(s, "double")),
            other => Err(no_overload(name, other, at)),
        },
        ("string", None, [v]) => match v {
            Value::String(s) => Ok(Value::String(s.clone())),
            Value::Int(i) => Ok(Value::from(i.to_string())),
            Value::Uint(u) => Ok(Value::from(u.to_string())),
            Value::Double(d) => Ok(Value::from(d.to_string())),
            Value::Bool(b) => Ok(Value::from(b.to_string())),
            other => Err(no_overload(name, other, at)),
        },
        ("bool", None, [v]) => match v {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::String(s) => match &**s {
                "true" | "True" | "TRUE" | "t" | "1" => Ok(Value::Bool(true)),
                "false" | "False" | "FALSE" | "f" | "0" => Ok(Value::Bool(false)),
                _ => Err(invalid(format!("cannot convert '{s}' to bool"))),
            },
            other => Err(no_overload(name, other, at)),
        },
        (_, target, args) => {
            let types: Vec<&str> = target
                .into_iter()
                .chain(args)
                .map(Value::type_name)
                .collect();
            Err(mismatch(
                at,
                format!(
                    "no matching overload for '{name}' applied to ({})",
                    types.join(", ")
                ),
            ))
        }
    }
}

fn no_overload(name: &str, v: &Value, at: usize) -> Fault {
    mismatch(
        at,
        format!(
            "no matching overload for '{name}' applied to ({})",
            v.type_name()
        ),
    )
}

fn size(v: &Value, at: usize) -> EResult {
    let n = match v {
        Value::String(s) => s.chars().count(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        other => return Err(no_overload("size", other, at)),
    };
    Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
}
