//! Reading from containers: list elements by position and map entries by key, with numeric
//! keys matching across int, uint and integral doubles.

use super::{EResult, I64_LIMIT, U64_LIMIT, mismatch};
use crate::error::{EvalErrorKind, Fault};
use crate::value::{MapKey, Value};

/// A map entry by key, where numeric keys match across int, uint and integral doubles.
pub(super) fn lookup<'m>(
    m: &'m std::collections::BTreeMap<MapKey, Value>,
    key: &Value,
) -> Option<&'m Value> {
    let candidates: Vec<MapKey> = match key {
        Value::String(s) => vec![MapKey::String(s.clone())],
        Value::Bool(b) => vec![MapKey::Bool(*b)],
        Value::Int(i) => {
            let mut v = vec![MapKey::Int(*i)];
            v.extend(u64::try_from(*i).ok().map(MapKey::Uint));
            v
        }
        Value::Uint(u) => {
            let mut v = vec![MapKey::Uint(*u)];
            v.extend(i64::try_from(*u).ok().map(MapKey::Int));
            v
        }
        Value::Double(d) if d.fract() == 0.0 && d.is_finite() => {
            let mut v = Vec::new();
            if *d >= -I64_LIMIT && *d < I64_LIMIT {
                v.push(MapKey::Int(*d as i64));
            }
            if *d >= 0.0 && *d < U64_LIMIT {
                v.push(MapKey::Uint(*d as u64));
            }
            v
        }
        _ => Vec::new(),
    };
    candidates.iter().find_map(|k| m.get(k))
}

pub(super) fn index(container: &Value, key: &Value, at: usize) -> EResult {
    match container {
        Value::List(items) => {
            let i = match key {
                Value::Int(i) => Some(*i),
                Value::Uint(u) => i64::try_from(*u).ok(),
                Value::Double(d) if d.fract() == 0.0 => Some(*d as i64),
                other => {
                    return Err(mismatch(
                        at,
                        format!("a list index must be int, not {}", other.type_name()),
                    ));
                }
            };
            i.and_then(|i| usize::try_from(i).ok())
                .and_then(|i| items.get(i))
                .cloned()
                .ok_or_else(|| {
                    Fault::new(
                        EvalErrorKind::InvalidArgument,
                        at,
                        format!(
                            "index {} out of range for a list of size {}",
                            key.preview(),
                            items.len()
                        ),
                    )
                })
        }
        Value::Map(m) => lookup(m, key).cloned().ok_or_else(|| {
            Fault::new(
                EvalErrorKind::NoSuchKey,
                at,
                format!("no such key: {}", key.preview()),
            )
        }),
        other => Err(mismatch(
            at,
            format!("{} cannot be indexed", other.type_name()),
        )),
    }
}
