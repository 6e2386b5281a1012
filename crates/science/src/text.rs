//! Numbers in sentences for people.

use std::fmt;

/// A number for a sentence: at most `decimals` decimals, trailing zeros dropped, no "-0".
pub(crate) struct Number {
    value: f64,
    decimals: usize,
}

impl Number {
    /// Two decimals at most, for money and values.
    pub(crate) fn money(value: f64) -> Self {
        Self { value, decimals: 2 }
    }

    /// One decimal at most, for counts and rates.
    pub(crate) fn short(value: f64) -> Self {
        Self { value, decimals: 1 }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!("{:.*}", self.decimals, self.value);
        let text = if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.')
        } else {
            &text
        };
        f.write_str(if text == "-0" { "0" } else { text })
    }
}

/// A fraction as a whole percentage: 0.333 as "33%".
pub(crate) struct Percent(pub f64);

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", Number::short((self.0 * 100.0).round()))
    }
}

/// A fraction as an ordinal percentile: 0.8 as "80th", 0.955 as "95.5th".
pub(crate) struct Ordinal(pub f64);

impl fmt::Display for Ordinal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = self.0 * 100.0;
        let rounded = (percent * 10.0).round() / 10.0;
        if rounded.fract() != 0.0 {
            return write!(f, "{rounded}th");
        }
        let whole = rounded as i64;
        let suffix = match (whole % 10, whole % 100) {
            (_, 11..=13) => "th",
            (1, _) => "st",
            (2, _) => "nd",
            (3, _) => "rd",
            _ => "th",
        };
        write!(f, "{whole}{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_drop_trailing_zeros() {
        assert_eq!(Number::money(12.5).to_string(), "12.5");
        assert_eq!(Number::money(3.0).to_string(), "3");
        assert_eq!(Number::money(1200.0).to_string(), "1200");
        assert_eq!(Number::money(-0.001).to_string(), "0");
        assert_eq!(Number::short(2.349).to_string(), "2.3");
        assert_eq!(Percent(0.666).to_string(), "67%");
    }

    #[test]
    fn ordinals_read_naturally() {
        let text = |f: f64| Ordinal(f).to_string();
        assert_eq!(text(0.01), "1st");
        assert_eq!(text(0.02), "2nd");
        assert_eq!(text(0.03), "3rd");
        assert_eq!(text(0.11), "11th");
        assert_eq!(text(0.955), "95.5th");
    }
}
