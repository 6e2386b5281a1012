//! The evaluator: a tree walk that charges every step against the cost budget and
//! checks the size of every string and list it builds before building it.

mod budget;
mod collections;
mod functions;
mod index;
mod logic;
mod ops;
#[cfg(test)]
mod tests;

use crate::ast::{BinaryOp, Expr, ExprKind, UnaryOp};
use crate::error::{EvalErrorKind, Fault};
use crate::limits::Limits;
use crate::value::{Activation, MapKey, Value};

pub(crate) fn evaluate(
    expr: &Expr,
    activation: &Activation,
    limits: &Limits,
) -> Result<Value, Fault> {
    Eval {
        activation,
        limits,
        cost: 0,
        locals: Vec::new(),
    }
    .eval(expr)
}

pub(crate) type EResult = Result<Value, Fault>;

pub(crate) struct Eval<'a> {
    activation: &'a Activation,
    limits: &'a Limits,
    cost: u64,
    /// Comprehension variables in scope, innermost last.
    locals: Vec<(&'a str, Value)>,
}

/// 2^63 and 2^64 as doubles: converting a double at or beyond these overflows.
pub(crate) const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;
pub(crate) const U64_LIMIT: f64 = 18_446_744_073_709_551_616.0;

impl<'a> Eval<'a> {
    fn eval(&mut self, e: &'a Expr) -> EResult {
        self.charge(1, e.offset)?;
        let at = e.offset;
        Ok(match &e.kind {
            ExprKind::Null => Value::Null,
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Int(i) => Value::Int(*i),
            ExprKind::Uint(u) => Value::Uint(*u),
            ExprKind::Double(d) => Value::Double(*d),
            ExprKind::String(s) => Value::String(s.clone()),
            ExprKind::Ident(name) => self.ident(name, at)?,
            ExprKind::Select {
                operand,
                field,
                on_object,
            } => {
                let v = self.eval(operand)?;
                select(&v, field, *on_object, at)?
            }
            ExprKind::Has { operand, field } => match self.eval(operand)? {
                Value::Map(m) => Value::Bool(m.contains_key(&MapKey::from(field.as_str()))),
                other => {
                    return Err(mismatch(
                        at,
                        format!("has() cannot test a field of {}", other.type_name()),
                    ));
                }
            },
            ExprKind::Index { operand, index } => {
                let container = self.eval(operand)?;
                let key = self.eval(index)?;
                index::index(&container, &key, at)?
            }
            ExprKind::Call {
                function,
                target,
                args,
            } => {
                let target = target.as_deref().map(|t| self.eval(t)).transpose()?;
                let args = args
                    .iter()
                    .map(|a| self.eval(a))
                    .collect::<Result<Vec<_>, _>>()?;
                functions::call(self, function, target, &args, at)?
            }
            ExprKind::Unary { op, operand } => {
                let v = self.eval(operand)?;
                match (op, v) {
                    (UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
                    (UnaryOp::Neg, Value::Int(i)) => {
                        Value::Int(i.checked_neg().ok_or_else(|| {
                            Fault::new(EvalErrorKind::Overflow, at, "integer overflow in negation")
                        })?)
                    }
                    (UnaryOp::Neg, Value::Double(d)) => Value::Double(-d),
                    (op, v) => {
                        let sym = if *op == UnaryOp::Not { "!" } else { "-" };
                        return Err(mismatch(
                            at,
                            format!(
                                "no matching overload for '{sym}' applied to ({})",
                                v.type_name()
                            ),
                        ));
                    }
                }
            }
            ExprKind::Binary { op, left, right } => match op {
                BinaryOp::And => self.logic(left, right, false)?,
                BinaryOp::Or => self.logic(left, right, true)?,
                _ => {
                    let l = self.eval(left)?;
                    let r = self.eval(right)?;
                    ops::binary(self, *op, &l, &r, at)?
                }
            },
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => match self.eval(cond)? {
                Value::Bool(true) => self.eval(then)?,
                Value::Bool(false) => self.eval(otherwise)?,
                other => {
                    return Err(mismatch(
                        at,
                        format!("the condition of '?:' is {}, not bool", other.type_name()),
                    ));
                }
            },
            ExprKind::List(items) => {
                self.check_list_len(items.len(), at)?;
                Value::List(
                    items
                        .iter()
                        .map(|i| self.eval(i))
                        .collect::<Result<Vec<_>, _>>()?
                        .into(),
                )
            }
            ExprKind::Map(entries) => self.map_literal(entries, at)?,
            ExprKind::Comprehension(c) => self.comprehension(c, at)?,
        })
    }

    fn ident(&self, name: &str, at: usize) -> EResult {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| *n == name) {
            return Ok(v.clone());
        }
        self.activation.get(name).cloned().ok_or_else(|| {
            Fault::new(
                EvalErrorKind::NoSuchKey,
                at,
                format!("no value bound for variable '{name}'"),
            )
        })
    }
}

pub(crate) fn mismatch(at: usize, message: impl Into<String>) -> Fault {
    Fault::new(EvalErrorKind::TypeMismatch, at, message)
}

fn select(v: &Value, field: &str, on_object: bool, at: usize) -> EResult {
    let Value::Map(m) = v else {
        return Err(mismatch(
            at,
            format!("cannot select '{field}' from {}", v.type_name()),
        ));
    };
    m.get(&MapKey::from(field)).cloned().ok_or_else(|| {
        if on_object {
            Fault::new(
                EvalErrorKind::NoSuchField,
                at,
                format!("no such field '{field}'"),
            )
        } else {
            Fault::new(
                EvalErrorKind::NoSuchKey,
                at,
                format!("no such key: '{field}'"),
            )
        }
    })
}
