//! Compile-time and evaluation errors, both positioned in the rule's source.

use std::fmt;

/// What kind of problem stopped compilation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileErrorKind {
    /// The text is not a well-formed expression.
    Syntax,
    /// The expression is well formed but does not type-check.
    Type,
    /// The expression is larger or deeper than the configured limits.
    Limit,
}

/// Why a rule did not compile, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct CompileError {
    /// Syntax, type or limit.
    pub kind: CompileErrorKind,
    /// 1-based line of the offending token.
    pub line: u32,
    /// 1-based column of the offending token, counted in characters.
    pub column: u32,
    /// Byte offset of the offending token.
    pub offset: usize,
    /// What is wrong, for the rule author.
    pub message: String,
}

impl CompileError {
    pub(crate) fn new(
        kind: CompileErrorKind,
        source: &str,
        offset: usize,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = line_column(source, offset);
        Self {
            kind,
            line,
            column,
            offset,
            message: message.into(),
        }
    }
}

/// What kind of problem stopped an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalErrorKind {
    /// The evaluation used more than `Limits::max_cost`.
    CostExceeded,
    /// Integer division or modulo by zero.
    DivisionByZero,
    /// Integer arithmetic or a conversion left the target range.
    Overflow,
    /// A map lookup of a missing key, or a variable with no bound value.
    NoSuchKey,
    /// An object value lacks a declared field.
    NoSuchField,
    /// A function got an argument it cannot handle (bad index, unparsable text, ...).
    InvalidArgument,
    /// A string or list grew beyond the configured limits.
    LimitExceeded,
    /// A value had a different runtime type than the operation needs.
    TypeMismatch,
}

impl fmt::Display for EvalErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Why an evaluation failed, and at which part of the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct EvalError {
    /// The class of failure.
    pub kind: EvalErrorKind,
    /// What went wrong.
    pub message: String,
    /// 1-based line of the expression that failed.
    pub line: u32,
    /// 1-based column (in characters) of the expression that failed.
    pub column: u32,
}

/// An evaluation failure before it is positioned against the source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fault {
    pub kind: EvalErrorKind,
    pub message: String,
    pub offset: usize,
}

impl Fault {
    pub(crate) fn new(kind: EvalErrorKind, offset: usize, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            offset,
        }
    }

    /// Budget and size faults abort the whole evaluation: `&&`/`||` must not absorb them,
    /// or a rule could keep burning work after running out of budget.
    pub(crate) fn is_fatal(&self) -> bool {
        matches!(
            self.kind,
            EvalErrorKind::CostExceeded | EvalErrorKind::LimitExceeded
        )
    }

    pub(crate) fn into_error(self, source: &str) -> EvalError {
        let (line, column) = line_column(source, self.offset);
        EvalError {
            kind: self.kind,
            message: self.message,
            line,
            column,
        }
    }
}

/// 1-based line and character column of a byte offset.
pub(crate) fn line_column(source: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(line_column("héllo", 3), (1, 3));
        assert_eq!(line_column("a\nbc", 3), (2, 2));
        assert_eq!(line_column("abc", 99), (1, 4));
    }

    #[test]
    fn display_leads_with_the_position() {
        let e = CompileError::new(CompileErrorKind::Type, "a\n  b", 4, "boom");
        assert_eq!(e.to_string(), "line 2, column 3: boom");
    }
}
