//! The operands operators apply to: literals, names, parenthesised expressions, lists and
//! maps, each followed by any field selections, indexes and method calls.

use std::sync::Arc;

use super::{PResult, Parser};
use crate::ast::ExprKind;
use crate::error::CompileErrorKind;
use crate::lexer::Tok;

impl Parser<'_> {
    pub(super) fn member(&mut self) -> PResult {
        let mut expr = self.primary()?;
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.advance();
                    let at = self.offset();
                    let Tok::Ident(name) = self.peek().clone() else {
                        return Err(self.unexpected("a field or method name after '.'"));
                    };
                    self.advance();
                    expr = if *self.peek() == Tok::LParen {
                        let args = self.args(Tok::RParen)?;
                        self.call(name, Some(expr), args, at)?
                    } else {
                        self.node(
                            ExprKind::Select {
                                operand: Box::new(expr),
                                field: name,
                                on_object: false,
                            },
                            at,
                        )?
                    };
                }
                Tok::LBracket => {
                    let at = self.advance().offset;
                    let index = self.expr()?;
                    self.expect(Tok::RBracket)?;
                    expr = self.node(
                        ExprKind::Index {
                            operand: Box::new(expr),
                            index: Box::new(index),
                        },
                        at,
                    )?;
                }
                _ => return Ok(expr),
            }
        }
    }

    fn primary(&mut self) -> PResult {
        let at = self.offset();
        let tok = self.peek().clone();
        let kind = match tok {
            Tok::Int(v) => match i64::try_from(v) {
                Ok(v) => ExprKind::Int(v),
                Err(_) => {
                    return Err(self.error(
                        CompileErrorKind::Syntax,
                        at,
                        "integer literal out of range",
                    ));
                }
            },
            Tok::Uint(v) => ExprKind::Uint(v),
            Tok::Double(v) => ExprKind::Double(v),
            Tok::Str(s) => ExprKind::String(Arc::from(s)),
            Tok::True => ExprKind::Bool(true),
            Tok::False => ExprKind::Bool(false),
            Tok::Null => ExprKind::Null,
            Tok::Dot | Tok::Ident(_) => return self.ident(),
            Tok::LParen => {
                self.advance();
                let inner = self.expr()?;
                self.expect(Tok::RParen)?;
                return Ok(inner);
            }
            Tok::LBracket => {
                let items = self.args(Tok::RBracket)?;
                return self.node(ExprKind::List(items), at);
            }
            Tok::LBrace => return self.map_literal(),
            _ => return Err(self.unexpected("an expression")),
        };
        self.advance();
        self.node(kind, at)
    }

    fn ident(&mut self) -> PResult {
        if *self.peek() == Tok::Dot {
            // A leading dot names the root scope; there are no nested scopes here.
            self.advance();
        }
        let at = self.offset();
        let Tok::Ident(name) = self.peek().clone() else {
            return Err(self.unexpected("a name"));
        };
        self.advance();
        if *self.peek() == Tok::LParen {
            let args = self.args(Tok::RParen)?;
            return self.call(name, None, args, at);
        }
        self.node(ExprKind::Ident(name), at)
    }
}
