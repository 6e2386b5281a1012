//! The static checker: resolves names, checks fields, operators and functions, infers
//! the result type and collects the variable paths a rule reads.

mod access;
mod collections;
mod functions;
mod ops;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::{BinaryOp, Expr, ExprKind};
use crate::error::{CompileError, CompileErrorKind};
use crate::types::Type;

/// What checking found out about a whole rule.
pub(crate) struct Checked {
    pub result_type: Type,
    pub references: BTreeSet<String>,
}

pub(crate) fn check(
    src: &str,
    expr: &mut Expr,
    vars: &BTreeMap<String, Type>,
) -> Result<Checked, CompileError> {
    let mut c = Checker {
        src,
        vars,
        locals: Vec::new(),
        refs: BTreeSet::new(),
    };
    let result_type = c.value(expr)?;
    Ok(Checked {
        result_type,
        references: c.refs,
    })
}

struct Checker<'a> {
    src: &'a str,
    vars: &'a BTreeMap<String, Type>,
    /// Comprehension variables in scope, innermost last.
    locals: Vec<(String, Type)>,
    refs: BTreeSet<String>,
}

/// A sub-expression's type and, while it is still a chain of object fields rooted at a
/// declared variable, the dotted path it reads.
struct Typed {
    ty: Type,
    path: Option<String>,
}

impl Typed {
    fn plain(ty: Type) -> Self {
        Self { ty, path: None }
    }
}

type CResult<T> = Result<T, CompileError>;

impl Checker<'_> {
    fn error(&self, offset: usize, message: impl Into<String>) -> CompileError {
        CompileError::new(CompileErrorKind::Type, self.src, offset, message)
    }

    /// Checks a sub-expression whose value is used as a whole, recording its path.
    fn value(&mut self, e: &mut Expr) -> CResult<Type> {
        let t = self.typed(e)?;
        if let Some(p) = t.path {
            self.refs.insert(p);
        }
        Ok(t.ty)
    }

    fn is_local(&self, name: &str) -> bool {
        self.locals.iter().any(|(n, _)| n == name)
    }

    /// Dispatches on the node kind. Each case lives in its own function so that this
    /// frame, which recursion repeats once per tree level, stays small in debug builds.
    fn typed(&mut self, e: &mut Expr) -> CResult<Typed> {
        let offset = e.offset;
        let ty = match &mut e.kind {
            ExprKind::Null => Type::Null,
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::Int(_) => Type::Int,
            ExprKind::Uint(_) => Type::Uint,
            ExprKind::Double(_) => Type::Double,
            ExprKind::String(_) => Type::String,
            ExprKind::Ident(name) => return self.ident(name, offset),
            ExprKind::Select {
                operand,
                field,
                on_object,
            } => return self.select(operand, field, on_object, offset),
            ExprKind::Has { operand, field } => self.has(operand, field, offset)?,
            ExprKind::Index { operand, index } => self.index(operand, index, offset)?,
            ExprKind::Call {
                function,
                target,
                args,
            } => self.call(function, target.as_deref_mut(), args, offset)?,
            ExprKind::Unary { op, operand } => {
                let t = self.value(operand)?;
                ops::unary(*op, &t).map_err(|m| self.error(offset, m))?
            }
            ExprKind::Binary { op, left, right } => self.binary(*op, left, right, offset)?,
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => self.conditional(cond, then, otherwise, offset)?,
            ExprKind::List(items) => self.list(items)?,
            ExprKind::Map(entries) => self.map_literal(entries)?,
            ExprKind::Comprehension(c) => self.comprehension(c, offset)?,
        };
        Ok(Typed::plain(ty))
    }

    fn call(
        &mut self,
        function: &str,
        target: Option<&mut Expr>,
        args: &mut [Expr],
        offset: usize,
    ) -> CResult<Type> {
        // `http.get(..)` reads as a namespaced function when `http` is not a variable.
        let qualified = match target.as_deref() {
            Some(Expr {
                kind: ExprKind::Ident(t),
                ..
            }) if !self.is_local(t) && !self.vars.contains_key(t) => format!("{t}.{function}"),
            _ => function.to_owned(),
        };
        functions::known(&qualified, target.is_some()).map_err(|m| self.error(offset, m))?;
        let target_ty = target.map(|t| self.value(t)).transpose()?;
        let arg_tys = args
            .iter_mut()
            .map(|a| self.value(a))
            .collect::<CResult<Vec<_>>>()?;
        functions::check(function, target_ty.as_ref(), &arg_tys).map_err(|m| self.error(offset, m))
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        left: &mut Expr,
        right: &mut Expr,
        offset: usize,
    ) -> CResult<Type> {
        let l = self.value(left)?;
        let r = self.value(right)?;
        if matches!(op, BinaryOp::And | BinaryOp::Or) {
            // Chains of conditions are long; point at the one that is not a condition.
            for (t, e) in [(&l, &*left), (&r, &*right)] {
                if !matches!(t, Type::Bool | Type::Dyn) {
                    return Err(self.error(
                        e.offset,
                        format!("'{}' needs bool operands, but this one is {t}", op.symbol()),
                    ));
                }
            }
        }
        ops::binary(op, &l, &r, left, right).map_err(|m| self.error(offset, m))
    }

    fn conditional(
        &mut self,
        cond: &mut Expr,
        then: &mut Expr,
        otherwise: &mut Expr,
        offset: usize,
    ) -> CResult<Type> {
        let c = self.value(cond)?;
        if !matches!(c, Type::Bool | Type::Dyn) {
            return Err(self.error(offset, format!("the condition of '?:' is {c}, not bool")));
        }
        let a = self.value(then)?;
        let b = self.value(otherwise)?;
        Ok(a.join(&b))
    }

    fn list(&mut self, items: &mut [Expr]) -> CResult<Type> {
        let mut elem: Option<Type> = None;
        for item in items.iter_mut() {
            let t = self.value(item)?;
            elem = Some(elem.map_or(t.clone(), |e| e.join(&t)));
        }
        Ok(Type::list(elem.unwrap_or(Type::Dyn)))
    }
}
