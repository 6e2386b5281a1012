//! The declarations rules are checked against, and compilation.

use std::collections::BTreeMap;

use crate::checker;
use crate::error::{CompileError, CompileErrorKind};
use crate::limits::Limits;
use crate::parser;
use crate::program::{Compiled, Program};
use crate::types::Type;

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
        Ok(Program::new(Compiled {
            source: source.to_owned(),
            expr,
            result_type: checked.result_type,
            references: checked.references,
            limits: self.limits.clone(),
        }))
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
