//! Map literals and the comprehension macros.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{EResult, Eval, mismatch};
use crate::ast::{Comprehension, Expr, MacroKind};
use crate::error::{EvalErrorKind, Fault};
use crate::value::{MapKey, Value};

impl<'a> Eval<'a> {
    pub(super) fn map_literal(&mut self, entries: &'a [(Expr, Expr)], at: usize) -> EResult {
        self.check_list_len(entries.len(), at)?;
        let mut map = BTreeMap::new();
        for (k, v) in entries {
            let key = match self.eval(k)? {
                Value::Bool(b) => MapKey::Bool(b),
                Value::Int(i) => MapKey::Int(i),
                Value::Uint(u) => MapKey::Uint(u),
                Value::String(s) => MapKey::String(s),
                other => {
                    return Err(mismatch(
                        k.offset,
                        format!("a map key cannot be {}", other.type_name()),
                    ));
                }
            };
            let value = self.eval(v)?;
            if map.insert(key, value).is_some() {
                return Err(Fault::new(
                    EvalErrorKind::InvalidArgument,
                    k.offset,
                    "duplicate key in map literal",
                ));
            }
        }
        Ok(Value::Map(Arc::new(map)))
    }

    /// Evaluates `body` with `var` bound to `item`, unbinding it whatever happens.
    pub(super) fn with_local<T>(
        &mut self,
        var: &'a str,
        item: Value,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        self.locals.push((var, item));
        let out = f(self);
        self.locals.pop();
        out
    }

    pub(super) fn comprehension(&mut self, c: &'a Comprehension, at: usize) -> EResult {
        let (kind, range, var, body) = (c.kind, &*c.range, c.var.as_str(), &*c.body);
        let transform = c.transform.as_deref();
        let items: Vec<Value> = match self.eval(range)? {
            Value::List(l) => l.to_vec(),
            Value::Map(m) => m.keys().cloned().map(Value::from).collect(),
            other => {
                return Err(mismatch(
                    at,
                    format!(
                        "{}() needs a list or a map, not {}",
                        kind.name(),
                        other.type_name()
                    ),
                ));
            }
        };
        let mut pending: Option<Fault> = None;
        let mut count = 0usize;
        let mut out = Vec::new();
        for item in items {
            self.charge(1, at)?;
            match kind {
                MacroKind::All | MacroKind::Exists => {
                    let decisive = kind == MacroKind::Exists;
                    match self.with_local(var, item, |s| s.truth(body)) {
                        Ok(b) if b == decisive => return Ok(Value::Bool(decisive)),
                        Ok(_) => {}
                        Err(f) if f.is_fatal() => return Err(f),
                        Err(f) => {
                            pending.get_or_insert(f);
                        }
                    }
                }
                MacroKind::ExistsOne => {
                    if self.with_local(var, item, |s| s.truth(body))? {
                        count += 1;
                    }
                }
                MacroKind::Filter => {
                    if self.with_local(var, item.clone(), |s| s.truth(body))? {
                        out.push(item);
                    }
                }
                MacroKind::Map => {
                    let mapped = self.with_local(var, item, |s| match transform {
                        None => s.eval(body).map(Some),
                        Some(t) => match s.truth(body)? {
                            true => s.eval(t).map(Some),
                            false => Ok(None),
                        },
                    })?;
                    out.extend(mapped);
                }
            }
        }
        if let Some(f) = pending {
            return Err(f);
        }
        Ok(match kind {
            MacroKind::All => Value::Bool(true),
            MacroKind::Exists => Value::Bool(false),
            MacroKind::ExistsOne => Value::Bool(count == 1),
            MacroKind::Map | MacroKind::Filter => {
                self.check_list_len(out.len(), at)?;
                Value::List(out.into())
            }
        })
    }
}
