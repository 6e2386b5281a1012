//! The parsed expression tree. Every node keeps the byte offset of the token that
//! errors about it should point at.

mod ops;

use std::sync::Arc;

pub(crate) use ops::{BinaryOp, MacroKind, UnaryOp};

/// One node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    pub kind: ExprKind,
    /// Offset of the node's key token: the operator, the field name, the function name.
    pub offset: usize,
    /// Height of the subtree rooted here (a leaf is 1), kept so the parser can refuse a
    /// too-tall tree before building it: even dropping one recurses once per level.
    pub height: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExprKind {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Double(f64),
    String(Arc<str>),
    Ident(String),
    Select {
        operand: Box<Expr>,
        field: String,
        /// Set by the checker: the operand is a declared object, so a missing entry
        /// is a missing field rather than a missing map key.
        on_object: bool,
    },
    Has {
        operand: Box<Expr>,
        field: String,
    },
    Index {
        operand: Box<Expr>,
        index: Box<Expr>,
    },
    Call {
        function: String,
        target: Option<Box<Expr>>,
        args: Vec<Expr>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Conditional {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Comprehension(Comprehension),
}

/// A macro over a list or a map's keys: `range.kind(var, body[, transform])`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Comprehension {
    pub kind: MacroKind,
    pub range: Box<Expr>,
    pub var: String,
    /// The predicate (`all`, `exists`, `exists_one`, `filter`, 3-argument `map`)
    /// or the transform (2-argument `map`).
    pub body: Box<Expr>,
    /// The transform of the 3-argument `map(x, predicate, transform)`.
    pub transform: Option<Box<Expr>>,
}

impl Expr {
    pub(crate) fn new(kind: ExprKind, offset: usize) -> Self {
        let mut e = Self {
            kind,
            offset,
            height: 1,
        };
        let mut tallest = 0;
        e.for_each_child(|c| tallest = tallest.max(c.height));
        e.height = tallest + 1;
        e
    }

    fn for_each_child<'a>(&'a self, mut f: impl FnMut(&'a Expr)) {
        match &self.kind {
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Uint(_)
            | ExprKind::Double(_)
            | ExprKind::String(_)
            | ExprKind::Ident(_) => {}
            ExprKind::Select { operand, .. }
            | ExprKind::Has { operand, .. }
            | ExprKind::Unary { operand, .. } => f(operand),
            ExprKind::Index { operand, index } => {
                f(operand);
                f(index);
            }
            ExprKind::Call { target, args, .. } => {
                if let Some(t) = target {
                    f(t);
                }
                args.iter().for_each(f);
            }
            ExprKind::Binary { left, right, .. } => {
                f(left);
                f(right);
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                f(cond);
                f(then);
                f(otherwise);
            }
            ExprKind::List(items) => items.iter().for_each(f),
            ExprKind::Map(entries) => entries.iter().for_each(|(k, v)| {
                f(k);
                f(v);
            }),
            ExprKind::Comprehension(Comprehension {
                range,
                body,
                transform,
                ..
            }) => {
                f(range);
                f(body);
                if let Some(t) = transform {
                    f(t);
                }
            }
        }
    }
}
