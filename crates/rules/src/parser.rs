//! Recursive-descent parser with CEL's precedence. Recursion is bounded: every nested
//! sub-expression and every prefix operator counts against `max_depth` before the parser
//! descends, so hostile nesting fails with a limit error instead of exhausting the stack.

mod calls;
mod describe;
#[cfg(test)]
mod tests;

use describe::{describe, symbol};

use std::sync::Arc;

use crate::ast::{BinaryOp, Expr, ExprKind, UnaryOp};
use crate::error::{CompileError, CompileErrorKind};
use crate::lexer::{Tok, Token, tokenize};
use crate::limits::Limits;

/// Deepest nesting the parser accepts whatever the configured limit says: the checker
/// and evaluator recurse once per level, and this keeps them far from the thread's stack.
pub(crate) const DEPTH_CAP: usize = 50;

/// Tallest tree accepted. Left-associative chains (`a + b + c ...`, `x.f.g.h ...`) grow
/// the tree without nesting; this bounds the recursion they cause. Chains of `&&`/`||`
/// are balanced, so hundreds of conditions stay far below it.
pub(crate) const HEIGHT_CAP: usize = 200;

pub(crate) fn parse(src: &str, limits: &Limits) -> Result<Expr, CompileError> {
    if src.len() > limits.max_source_len {
        return Err(CompileError::new(
            CompileErrorKind::Limit,
            src,
            0,
            format!(
                "rule is {} bytes long; the limit is {}",
                src.len(),
                limits.max_source_len
            ),
        ));
    }
    let tokens = tokenize(src)
        .map_err(|e| CompileError::new(CompileErrorKind::Syntax, src, e.offset, e.message))?;
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
        depth: 0,
        max_depth: limits.max_depth.min(DEPTH_CAP),
        nodes: 0,
        max_nodes: limits.max_nodes,
    };
    let expr = p.expr()?;
    if p.peek() != &Tok::Eof {
        return Err(p.unexpected("end of expression"));
    }
    Ok(expr)
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    max_depth: usize,
    nodes: usize,
    max_nodes: usize,
}

type PResult = Result<Expr, CompileError>;

/// Precedence of the operators below `&&`: relations, then additive, then multiplicative.
fn precedence(tok: &Tok) -> Option<(u8, BinaryOp)> {
    Some(match tok {
        Tok::EqEq => (0, BinaryOp::Eq),
        Tok::NotEq => (0, BinaryOp::Ne),
        Tok::Lt => (0, BinaryOp::Lt),
        Tok::Le => (0, BinaryOp::Le),
        Tok::Gt => (0, BinaryOp::Gt),
        Tok::Ge => (0, BinaryOp::Ge),
        Tok::In => (0, BinaryOp::In),
        Tok::Plus => (1, BinaryOp::Add),
        Tok::Minus => (1, BinaryOp::Sub),
        Tok::Star => (2, BinaryOp::Mul),
        Tok::Slash => (2, BinaryOp::Div),
        Tok::Percent => (2, BinaryOp::Rem),
        _ => return None,
    })
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn offset(&self) -> usize {
        self.tokens[self.pos].offset
    }

    fn advance(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn error(&self, kind: CompileErrorKind, offset: usize, msg: impl Into<String>) -> CompileError {
        CompileError::new(kind, self.src, offset, msg)
    }

    fn unexpected(&self, wanted: &str) -> CompileError {
        self.error(
            CompileErrorKind::Syntax,
            self.offset(),
            format!("expected {wanted} but found {}", describe(self.peek())),
        )
    }

    fn expect(&mut self, tok: Tok) -> Result<Token, CompileError> {
        if *self.peek() == tok {
            Ok(self.advance())
        } else {
            Err(self.unexpected(&format!("'{}'", symbol(&tok))))
        }
    }

    fn node(&mut self, kind: ExprKind, offset: usize) -> PResult {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return Err(self.error(
                CompileErrorKind::Limit,
                offset,
                format!("rule has more than {} parts; simplify it", self.max_nodes),
            ));
        }
        let expr = Expr::new(kind, offset);
        if expr.height > HEIGHT_CAP {
            return Err(self.error(
                CompileErrorKind::Limit,
                offset,
                format!("expression is nested more than {HEIGHT_CAP} levels deep; split it up"),
            ));
        }
        Ok(expr)
    }

    fn enter(&mut self) -> Result<(), CompileError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(self.error(
                CompileErrorKind::Limit,
                self.offset(),
                format!(
                    "expression is nested more than {} levels deep",
                    self.max_depth
                ),
            ));
        }
        Ok(())
    }

    /// Expr = Or ["?" Or ":" Expr]
    fn expr(&mut self) -> PResult {
        self.enter()?;
        let cond = self.logical(BinaryOp::Or)?;
        let result = if *self.peek() == Tok::Question {
            let at = self.advance().offset;
            let then = self.logical(BinaryOp::Or)?;
            self.expect(Tok::Colon)?;
            let otherwise = self.expr()?;
            self.node(
                ExprKind::Conditional {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    otherwise: Box::new(otherwise),
                },
                at,
            )
        } else {
            Ok(cond)
        };
        self.depth -= 1;
        result
    }

    /// The non-logical binary operators by precedence climbing: one frame per operand
    /// instead of one per precedence level keeps nesting cheap on the stack.
    fn climb(&mut self, min: u8) -> PResult {
        let mut left = self.unary()?;
        while let Some((prec, op)) = precedence(self.peek())
            && prec >= min
        {
            let at = self.advance().offset;
            let right = self.climb(prec + 1)?;
            left = self.node(
                ExprKind::Binary {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                at,
            )?;
        }
        Ok(left)
    }

    /// `a || b || c ...` and `a && b && c ...` as balanced trees, as cel-go builds them:
    /// both operators are associative (error absorption included), and a long list of
    /// conditions then costs logarithmic rather than linear recursion depth.
    fn logical(&mut self, op: BinaryOp) -> PResult {
        let tok = if op == BinaryOp::Or {
            Tok::OrOr
        } else {
            Tok::AndAnd
        };
        let next = |p: &mut Self| match op {
            BinaryOp::Or => p.logical(BinaryOp::And),
            _ => p.climb(0),
        };
        let mut terms = vec![Some(next(self)?)];
        let mut offsets = Vec::new();
        while *self.peek() == tok {
            offsets.push(self.advance().offset);
            terms.push(Some(next(self)?));
        }
        self.balance(op, &mut terms, &offsets)
    }

    fn balance(&mut self, op: BinaryOp, terms: &mut [Option<Expr>], offsets: &[usize]) -> PResult {
        if terms.len() == 1 {
            return Ok(terms[0].take().expect("each term is taken once"));
        }
        let mid = terms.len() / 2;
        let (left_terms, right_terms) = terms.split_at_mut(mid);
        let left = self.balance(op, left_terms, &offsets[..mid - 1])?;
        let right = self.balance(op, right_terms, &offsets[mid..])?;
        self.node(
            ExprKind::Binary {
                op,
                left: Box::new(left),
                right: Box::new(right),
            },
            offsets[mid - 1],
        )
    }

    fn unary(&mut self) -> PResult {
        let op = match self.peek() {
            Tok::Bang => UnaryOp::Not,
            Tok::Minus => UnaryOp::Neg,
            _ => return self.member(),
        };
        let at = self.advance().offset;
        if op == UnaryOp::Neg
            && let Some(lit) = self.negative_literal(at)?
        {
            return Ok(lit);
        }
        self.enter()?;
        let operand = self.unary();
        self.depth -= 1;
        self.node(
            ExprKind::Unary {
                op,
                operand: Box::new(operand?),
            },
            at,
        )
    }

    /// `-9223372036854775808` is a valid int only when the sign is read with the digits.
    fn negative_literal(&mut self, at: usize) -> Result<Option<Expr>, CompileError> {
        let follows_member = matches!(
            self.tokens.get(self.pos + 1).map(|t| &t.tok),
            Some(Tok::Dot | Tok::LBracket | Tok::LParen)
        );
        let kind = match *self.peek() {
            _ if follows_member => return Ok(None),
            Tok::Int(v) if v <= i64::MAX as u64 + 1 => {
                ExprKind::Int((v as i128).wrapping_neg() as i64)
            }
            Tok::Double(v) => ExprKind::Double(-v),
            _ => return Ok(None),
        };
        self.advance();
        self.node(kind, at).map(Some)
    }

    fn member(&mut self) -> PResult {
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
