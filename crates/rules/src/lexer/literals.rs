//! Number and string literals.

use super::{LexError, Lexer, Tok};

impl Lexer<'_> {
    pub(super) fn digits(&mut self, hex: bool) -> usize {
        let start = self.pos;
        while (hex && self.peek(0).is_ascii_hexdigit()) || self.peek(0).is_ascii_digit() {
            self.pos += 1;
        }
        self.pos - start
    }

    pub(super) fn number(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        if self.peek(0) == b'0' && matches!(self.peek(1), b'x' | b'X') {
            self.pos += 2;
            if self.digits(true) == 0 {
                return self.err(start, "hex literal needs digits after '0x'");
            }
            let value = u64::from_str_radix(&self.src[start + 2..self.pos], 16);
            return self.finish_int(start, value.ok());
        }
        self.digits(false);
        let mut is_double = false;
        if self.peek(0) == b'.' && self.peek(1).is_ascii_digit() {
            is_double = true;
            self.pos += 1;
            self.digits(false);
        }
        if matches!(self.peek(0), b'e' | b'E') {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(0), b'+' | b'-') {
                self.pos += 1;
            }
            if self.digits(false) == 0 {
                self.pos = save;
                return self.err(save, "exponent needs digits");
            }
            is_double = true;
        }
        let text = &self.src[start..self.pos];
        if is_double {
            let value: f64 = text.parse().map_err(|_| LexError {
                offset: start,
                message: format!("invalid double literal '{text}'"),
            })?;
            self.push(Tok::Double(value), start);
            return self.reject_trailing_ident(start);
        }
        let value = text.parse::<u64>().ok();
        self.finish_int(start, value)
    }

    pub(super) fn finish_int(&mut self, start: usize, value: Option<u64>) -> Result<(), LexError> {
        let Some(value) = value else {
            return self.err(start, "integer literal out of range");
        };
        if matches!(self.peek(0), b'u' | b'U') {
            self.pos += 1;
            self.push(Tok::Uint(value), start);
        } else {
            self.push(Tok::Int(value), start);
        }
        self.reject_trailing_ident(start)
    }

    /// `12abc` is one malformed token, not `12` followed by `abc`.
    pub(super) fn reject_trailing_ident(&self, start: usize) -> Result<(), LexError> {
        let c = self.peek(0);
        if c == b'_' || c.is_ascii_alphanumeric() {
            return self.err(start, "invalid number literal");
        }
        Ok(())
    }

    pub(super) fn string(&mut self, raw: bool) -> Result<(), LexError> {
        let start = self.pos;
        let quote = self.peek(0);
        let triple = self.peek(1) == quote && self.peek(2) == quote;
        self.pos += if triple { 3 } else { 1 };
        let mut out = String::new();
        loop {
            if self.pos >= self.bytes.len() {
                return self.err(start, "unterminated string literal");
            }
            let c = self.peek(0);
            if c == quote && (!triple || (self.peek(1) == quote && self.peek(2) == quote)) {
                self.pos += if triple { 3 } else { 1 };
                break;
            }
            if !triple && (c == b'\n' || c == b'\r') {
                return self.err(start, "unterminated string literal (newline in string)");
            }
            if c == b'\\' && !raw {
                self.escape(&mut out)?;
                continue;
            }
            let ch = self.src[self.pos..].chars().next().expect("in bounds");
            out.push(ch);
            self.pos += ch.len_utf8();
        }
        self.push(Tok::Str(out), start);
        Ok(())
    }

    pub(super) fn escape(&mut self, out: &mut String) -> Result<(), LexError> {
        let at = self.pos;
        let c = self.peek(1);
        self.pos += 2;
        let simple = match c {
            b'\\' => Some('\\'),
            b'"' => Some('"'),
            b'\'' => Some('\''),
            b'`' => Some('`'),
            b'?' => Some('?'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            b'a' => Some('\x07'),
            b'b' => Some('\x08'),
            b'f' => Some('\x0c'),
            b'v' => Some('\x0b'),
            _ => None,
        };
        if let Some(ch) = simple {
            out.push(ch);
            return Ok(());
        }
        let (radix, len) = match c {
            b'x' | b'X' => (16, 2),
            b'u' => (16, 4),
            b'U' => (16, 8),
            b'0'..=b'3' => {
                self.pos -= 1;
                (8, 3)
            }
            _ => return self.err(at, "invalid escape sequence"),
        };
        let digits = self.src.get(self.pos..self.pos + len);
        let code = digits.and_then(|d| {
            d.bytes()
                .all(|b| (b as char).is_digit(radix))
                .then(|| u32::from_str_radix(d, radix).ok())
                .flatten()
        });
        let Some(ch) = code.and_then(char::from_u32) else {
            return self.err(at, "invalid escape sequence");
        };
        self.pos += len;
        out.push(ch);
        Ok(())
    }
}
