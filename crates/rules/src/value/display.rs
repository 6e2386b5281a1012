//! How values print: as CEL would write them, and cut short for error messages.

use std::fmt;

use super::Value;

/// Longest rendering of a value inside an error message.
const PREVIEW_CHARS: usize = 80;

/// A writer that keeps the first [`PREVIEW_CHARS`] bytes and then refuses
/// more, so rendering stops early however large (or however shared and
/// nested) the value is.
struct Bounded(String);

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = PREVIEW_CHARS.saturating_sub(self.0.len());
        if s.len() <= room {
            self.0.push_str(s);
            return Ok(());
        }
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.0.push_str(&s[..cut]);
        Err(fmt::Error)
    }
}

impl Value {
    /// The value as CEL would print it, cut to a few dozen characters (with
    /// "…" when cut): for error messages, where a value built by a rule
    /// must not cost more than the rule paid for.
    pub fn preview(&self) -> String {
        use fmt::Write;
        let mut out = Bounded(String::new());
        match write!(out, "{self}") {
            Ok(()) => out.0,
            Err(_) => out.0 + "…",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Uint(u) => write!(f, "{u}u"),
            Value::Double(d) => write!(f, "{d:?}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {v}", Value::from(k.clone()))?;
                }
                f.write_str("}")
            }
        }
    }
}
