//! Calls, macros and collection literals.

use crate::ast::{Comprehension, Expr, ExprKind, MacroKind};
use crate::error::{CompileError, CompileErrorKind};
use crate::lexer::Tok;

use super::{PResult, Parser, symbol};

impl Parser<'_> {
    /// Parses `(a, b, ...)`, `[a, b, ...]` from the opening token; a trailing comma is allowed.
    pub(super) fn args(&mut self, close: Tok) -> Result<Vec<Expr>, CompileError> {
        self.advance();
        let mut out = Vec::new();
        while *self.peek() != close {
            out.push(self.expr()?);
            if *self.peek() == Tok::Comma {
                self.advance();
            } else if *self.peek() != close {
                return Err(self.unexpected(&format!("',' or '{}'", symbol(&close))));
            }
        }
        self.advance();
        Ok(out)
    }

    pub(super) fn call(
        &mut self,
        function: String,
        target: Option<Expr>,
        mut args: Vec<Expr>,
        at: usize,
    ) -> PResult {
        if target.is_none() && function == "has" {
            return match (args.pop(), args.is_empty()) {
                (
                    Some(Expr {
                        kind: ExprKind::Select { operand, field, .. },
                        ..
                    }),
                    true,
                ) => self.node(ExprKind::Has { operand, field }, at),
                _ => Err(self.error(
                    CompileErrorKind::Syntax,
                    at,
                    "has() takes one field selection, e.g. has(customer.attributes.region)",
                )),
            };
        }
        let macro_kind = MacroKind::from_name(&function);
        let arity_ok = match macro_kind {
            Some(MacroKind::Map) => args.len() == 2 || args.len() == 3,
            Some(_) => args.len() == 2,
            None => false,
        };
        if let (Some(kind), true, true) = (macro_kind, target.is_some(), arity_ok) {
            let var = match &args[0].kind {
                ExprKind::Ident(name) => name.clone(),
                _ => {
                    return Err(self.error(
                        CompileErrorKind::Syntax,
                        args[0].offset,
                        format!("{function}() needs a variable name as its first argument"),
                    ));
                }
            };
            let mut rest = args.into_iter().skip(1);
            let body = rest.next().expect("arity checked");
            let transform = rest.next().map(Box::new);
            return self.node(
                ExprKind::Comprehension(Comprehension {
                    kind,
                    range: Box::new(target.expect("matched above")),
                    var,
                    body: Box::new(body),
                    transform,
                }),
                at,
            );
        }
        self.node(
            ExprKind::Call {
                function,
                target: target.map(Box::new),
                args,
            },
            at,
        )
    }

    pub(super) fn map_literal(&mut self) -> PResult {
        let at = self.advance().offset;
        let mut entries = Vec::new();
        while *self.peek() != Tok::RBrace {
            let key = self.expr()?;
            self.expect(Tok::Colon)?;
            let value = self.expr()?;
            entries.push((key, value));
            if *self.peek() == Tok::Comma {
                self.advance();
            } else if *self.peek() != Tok::RBrace {
                return Err(self.unexpected("',' or '}'"));
            }
        }
        self.advance();
        self.node(ExprKind::Map(entries), at)
    }
}
