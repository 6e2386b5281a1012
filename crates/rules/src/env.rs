//! Declarations, limits, compilation and the compiled program.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::ast::Expr;
use crate::checker;
use crate::error::{CompileError, CompileErrorKind, EvalError};
use crate::eval;
use crate::parser;
use crate::types::Type;
use crate::value::{Activation, Value};

/// Bounds on what a rule may be and do. Compile-time bounds stop hostile text early;
/// runtime bounds stop a well-formed rule from running long or building huge values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted source, in bytes.
    pub max_source_len: usize,
    /// Deepest nesting of parentheses, brackets, prefix operators and sub-expressions.
    /// Values above 50 are treated as 50, and no rule's syntax tree
    /// may be more than 200 levels tall (`&&`/`||` chains are balanced, so they rarely are).
    pub max_depth: usize,
    /// Most syntax-tree nodes a rule may have.
    pub max_nodes: usize,
    /// Evaluation budget: every evaluated node costs at least 1, strings cost by length,
    /// comprehensions by element.
    pub max_cost: u64,
    /// Longest string an evaluation may build, in bytes.
    pub max_string_len: usize,
    /// Longest list (or largest map) an evaluation may build.
    pub max_list_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_source_len: 4096,
            max_depth: 32,
            max_nodes: 1000,
            max_cost: 100_000,
            max_string_len: 65_536,
            max_list_len: 10_000,
        }
    }
}

/// The variables rules may read, with their types, and the limits rules run under.
#[derive(Debug, Clone, Default)]
pub struct Env {
    variables: BTreeMap<String, Type>,
    limits: Limits,
}

impl Env {
    /// No variables, default limits.
    pub fn new() -> Env {
        Env::default()
    }

    /// Declares (or redeclares) a variable.
    pub fn variable(mut self, name: &str, ty: Type) -> Env {
        self.variables.insert(name.to_owned(), ty);
        self
    }

    /// Replaces the limits.
    pub fn limits(mut self, limits: Limits) -> Env {
        self.limits = limits;
        self
    }

    /// The declared variables.
    pub fn variables(&self) -> impl Iterator<Item = (&str, &Type)> {
        self.variables.iter().map(|(n, t)| (n.as_str(), t))
    }

    /// Parses and type-checks `source`; the result may have any type.
    pub fn compile(&self, source: &str) -> Result<Program, CompileError> {
        let mut expr = parser::parse(source, &self.limits)?;
        let checked = checker::check(source, &mut expr, &self.variables)?;
        Ok(Program {
            inner: Arc::new(Compiled {
                source: source.to_owned(),
                expr,
                result_type: checked.result_type,
                references: checked.references,
                limits: self.limits.clone(),
            }),
        })
    }

    /// Like [`Env::compile`], but the rule must produce a `bool` (or `dyn`, checked when
    /// it runs): what a condition needs.
    pub fn compile_condition(&self, source: &str) -> Result<Program, CompileError> {
        let program = self.compile(source)?;
        match program.result_type() {
            Type::Bool | Type::Dyn => Ok(program),
            other => Err(CompileError::new(
                CompileErrorKind::Type,
                source,
                0,
                format!("the condition is {other}, not bool"),
            )),
        }
    }
}

/// A compiled, type-checked rule. Cheap to clone and safe to share across threads:
/// evaluation reads it and keeps all state on the evaluating thread's stack.
#[derive(Debug, Clone)]
pub struct Program {
    inner: Arc<Compiled>,
}

#[derive(Debug)]
struct Compiled {
    source: String,
    expr: Expr,
    result_type: Type,
    references: BTreeSet<String>,
    limits: Limits,
}

impl Program {
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
                kind: crate::EvalErrorKind::TypeMismatch,
                message: format!("the rule produced {}, not bool", other.type_name()),
                line: 1,
                column: 1,
            }),
        }
    }
}
