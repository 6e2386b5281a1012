//! A compiled rule and its evaluation entry points.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::ast::Expr;
use crate::error::{EvalError, EvalErrorKind};
use crate::eval;
use crate::limits::Limits;
use crate::types::Type;
use crate::value::{Activation, Value};

/// A compiled, type-checked rule. Cheap to clone and safe to share across threads:
/// evaluation reads it and keeps all state on the evaluating thread's stack.
#[derive(Debug, Clone)]
pub struct Program {
    inner: Arc<Compiled>,
}

/// What compiling a rule produced.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) source: String,
    pub(crate) expr: Expr,
    pub(crate) result_type: Type,
    pub(crate) references: BTreeSet<String>,
    pub(crate) limits: Limits,
}

impl Program {
    pub(crate) fn new(compiled: Compiled) -> Program {
        Program {
            inner: Arc::new(compiled),
        }
    }

    /// The rule's text.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// The static type of the rule's result.
    pub fn result_type(&self) -> &Type {
        &self.inner.result_type
    }

    /// The dotted variable paths the rule reads, e.g. `score.monthly_profit`; a path
    /// stops at the first value that is not a declared object (`customer.attributes`).
    pub fn references(&self) -> BTreeSet<String> {
        self.inner.references.clone()
    }

    /// Evaluates the rule against `activation`.
    pub fn evaluate(&self, activation: &Activation) -> Result<Value, EvalError> {
        let c = &*self.inner;
        eval::evaluate(&c.expr, activation, &c.limits).map_err(|f| f.into_error(&c.source))
    }

    /// Evaluates the rule and requires a `bool` result.
    pub fn evaluate_bool(&self, activation: &Activation) -> Result<bool, EvalError> {
        match self.evaluate(activation)? {
            Value::Bool(b) => Ok(b),
            other => Err(EvalError {
                kind: EvalErrorKind::TypeMismatch,
                message: format!("the rule produced {}, not bool", other.type_name()),
                line: 1,
                column: 1,
            }),
        }
    }
}
