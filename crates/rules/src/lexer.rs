//! Turns source text into tokens with byte offsets.

mod literals;
#[cfg(test)]
mod tests;
mod token;

use token::RESERVED;
pub(crate) use token::{LexError, Tok, Token};

pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, LexError> {
    let mut lx = Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        out: Vec::new(),
    };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    out: Vec<Token>,
}

impl Lexer<'_> {
    fn err<T>(&self, offset: usize, message: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            offset,
            message: message.into(),
        })
    }

    fn peek(&self, ahead: usize) -> u8 {
        self.bytes.get(self.pos + ahead).copied().unwrap_or(0)
    }

    fn push(&mut self, tok: Tok, offset: usize) {
        self.out.push(Token { tok, offset });
    }

    /// Whether a `.` here starts a number like `.5` rather than a field selection.
    fn dot_starts_number(&self) -> bool {
        self.peek(1).is_ascii_digit()
            && !matches!(
                self.out.last().map(|t| &t.tok),
                Some(
                    Tok::Ident(_)
                        | Tok::RParen
                        | Tok::RBracket
                        | Tok::RBrace
                        | Tok::Int(_)
                        | Tok::Uint(_)
                        | Tok::Double(_)
                        | Tok::Str(_)
                )
            )
    }

    fn run(&mut self) -> Result<(), LexError> {
        loop {
            self.skip_trivia();
            let start = self.pos;
            let c = self.peek(0);
            if self.pos >= self.bytes.len() {
                self.push(Tok::Eof, start);
                return Ok(());
            }
            let two = |a: u8, b: u8| c == a && self.peek(1) == b;
            let (tok, len) = match c {
                b'(' => (Tok::LParen, 1),
                b')' => (Tok::RParen, 1),
                b'[' => (Tok::LBracket, 1),
                b']' => (Tok::RBracket, 1),
                b'{' => (Tok::LBrace, 1),
                b'}' => (Tok::RBrace, 1),
                b',' => (Tok::Comma, 1),
                b':' => (Tok::Colon, 1),
                b'?' => (Tok::Question, 1),
                b'+' => (Tok::Plus, 1),
                b'-' => (Tok::Minus, 1),
                b'*' => (Tok::Star, 1),
                b'/' => (Tok::Slash, 1),
                b'%' => (Tok::Percent, 1),
                _ if two(b'=', b'=') => (Tok::EqEq, 2),
                _ if two(b'!', b'=') => (Tok::NotEq, 2),
                _ if two(b'<', b'=') => (Tok::Le, 2),
                _ if two(b'>', b'=') => (Tok::Ge, 2),
                _ if two(b'&', b'&') => (Tok::AndAnd, 2),
                _ if two(b'|', b'|') => (Tok::OrOr, 2),
                b'!' => (Tok::Bang, 1),
                b'<' => (Tok::Lt, 1),
                b'>' => (Tok::Gt, 1),
                b'.' if self.dot_starts_number() => {
                    self.number()?;
                    continue;
                }
                b'.' => (Tok::Dot, 1),
                b'0'..=b'9' => {
                    self.number()?;
                    continue;
                }
                b'"' | b'\'' => {
                    self.string(false)?;
                    continue;
                }
                b'r' | b'R' if matches!(self.peek(1), b'"' | b'\'') => {
                    self.pos += 1;
                    self.string(true)?;
                    self.out.last_mut().expect("string token").offset = start;
                    continue;
                }
                b'b' | b'B' if matches!(self.peek(1), b'"' | b'\'') => {
                    return self.err(start, "bytes literals are not supported");
                }
                _ if c == b'_' || c.is_ascii_alphabetic() => {
                    self.ident()?;
                    continue;
                }
                b'=' => return self.err(start, "unexpected '=' (use '==' to compare)"),
                b'&' => return self.err(start, "unexpected '&' (use '&&')"),
                b'|' => return self.err(start, "unexpected '|' (use '||')"),
                _ => {
                    let ch = self.src[start..].chars().next().unwrap_or('?');
                    return self.err(start, format!("unexpected character {ch:?}"));
                }
            };
            self.pos += len;
            self.push(tok, start);
        }
    }

    fn skip_trivia(&mut self) {
        loop {
            match self.peek(0) {
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => self.pos += 1,
                b'/' if self.peek(1) == b'/' => {
                    while self.pos < self.bytes.len() && self.peek(0) != b'\n' {
                        self.pos += 1;
                    }
                }
                _ => return,
            }
        }
    }

    fn ident(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        while self.peek(0) == b'_' || self.peek(0).is_ascii_alphanumeric() {
            self.pos += 1;
        }
        let word = &self.src[start..self.pos];
        let tok = match word {
            "true" => Tok::True,
            "false" => Tok::False,
            "null" => Tok::Null,
            "in" => Tok::In,
            w if RESERVED.contains(&w) => {
                return self.err(start, format!("'{w}' is a reserved word"));
            }
            w => Tok::Ident(w.to_owned()),
        };
        self.push(tok, start);
        Ok(())
    }
}
