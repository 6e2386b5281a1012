//! How tokens are named in syntax errors.

use crate::lexer::Tok;

pub(super) fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Int(v) => format!("number {v}"),
        Tok::Uint(v) => format!("number {v}u"),
        Tok::Double(v) => format!("number {v}"),
        Tok::Str(_) => "a string".to_owned(),
        Tok::Ident(name) => format!("'{name}'"),
        Tok::Eof => "end of expression".to_owned(),
        other => format!("'{}'", symbol(other)),
    }
}

pub(super) fn symbol(tok: &Tok) -> &'static str {
    match tok {
        Tok::True => "true",
        Tok::False => "false",
        Tok::Null => "null",
        Tok::In => "in",
        Tok::LParen => "(",
        Tok::RParen => ")",
        Tok::LBracket => "[",
        Tok::RBracket => "]",
        Tok::LBrace => "{",
        Tok::RBrace => "}",
        Tok::Dot => ".",
        Tok::Comma => ",",
        Tok::Colon => ":",
        Tok::Question => "?",
        Tok::Plus => "+",
        Tok::Minus => "-",
        Tok::Star => "*",
        Tok::Slash => "/",
        Tok::Percent => "%",
        Tok::Bang => "!",
        Tok::EqEq => "==",
        Tok::NotEq => "!=",
        Tok::Lt => "<",
        Tok::Le => "<=",
        Tok::Gt => ">",
        Tok::Ge => ">=",
        Tok::AndAnd => "&&",
        Tok::OrOr => "||",
        _ => "?",
    }
}
