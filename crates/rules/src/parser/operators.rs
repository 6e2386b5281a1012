//! Expressions built from operators: the conditional, `||` and `&&` (balanced, so long
//! chains stay shallow), the binary operators by precedence climbing, and prefix operators.

use super::{PResult, Parser};
use crate::ast::{BinaryOp, Expr, ExprKind, UnaryOp};
use crate::error::CompileError;
use crate::lexer::Tok;

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
    /// Expr = Or ["?" Or ":" Expr]
    pub(super) fn expr(&mut self) -> PResult {
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
}
