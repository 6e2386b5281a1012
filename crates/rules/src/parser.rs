//! Recursive-descent parser with CEL's precedence. Recursion is bounded: every nested
//! sub-expression and every prefix operator counts against `max_depth` before the parser
//! descends, so hostile nesting fails with a limit error instead of exhausting the stack.

mod calls;
mod describe;
mod operators;
mod primary;
#[cfg(test)]
mod tests;

use describe::{describe, symbol};

use crate::ast::{Expr, ExprKind};
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
}
