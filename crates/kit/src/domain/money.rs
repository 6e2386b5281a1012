//! Money at the edge: a known currency, and amounts in its minor units parsed
//! from integers or decimals without floats.

use std::fmt;

use super::{MAX_AMOUNT_MINOR, currencies::CURRENCIES, truncate};

/// An ISO 4217 currency code known to Rapport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CurrencyCode(&'static str, u8);

impl CurrencyCode {
    /// Parses an upper-case ISO 4217 code such as `EUR`.
    pub fn parse(code: &str) -> Result<Self, String> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, e)| CurrencyCode(c, *e))
            .ok_or_else(|| {
                if code.is_empty() {
                    "required".to_owned()
                } else {
                    format!("{:?} is not an ISO 4217 currency code", truncate(code, 16))
                }
            })
    }

    /// The three-letter code.
    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// Digits after the decimal point in the major unit (2 for EUR, 0 for JPY).
    pub fn exponent(&self) -> u8 {
        self.1
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Checks an amount in minor units: not negative and within [`MAX_AMOUNT_MINOR`].
pub fn parse_amount_minor(amount: i64) -> Result<i64, String> {
    if amount < 0 {
        Err("must not be negative; a refund says so in `kind`".to_owned())
    } else if amount > MAX_AMOUNT_MINOR {
        Err(format!(
            "{amount} exceeds the largest accepted amount {MAX_AMOUNT_MINOR}"
        ))
    } else {
        Ok(amount)
    }
}

/// Parses a decimal in major units ("1234.5", "-0.99" is refused) into minor
/// units of `currency`, refusing more decimals than the currency has, exponents,
/// NaN, infinities and overflow.
pub fn parse_amount_decimal(text: &str, currency: CurrencyCode) -> Result<i64, String> {
    let t = text.trim();
    let bad = || format!("{:?} is not a decimal amount like 1234.50", truncate(t, 32));
    if t.is_empty() {
        return Err("required".to_owned());
    }
    if t.starts_with('-') {
        return Err("must not be negative; a refund says so in `kind`".to_owned());
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let exp = currency.exponent() as usize;
    let frac = frac.trim_end_matches('0');
    if frac.len() > exp {
        return Err(format!(
            "{:?} has more decimals than {} allows ({exp})",
            truncate(t, 32),
            currency
        ));
    }
    let too_big = || format!("{:?} exceeds the largest accepted amount", truncate(t, 32));
    let int = int.trim_start_matches('0');
    if int.len() > 18 {
        return Err(too_big());
    }
    let major: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad())?
    };
    let mut minor_frac: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| bad())?
    };
    for _ in frac.len()..exp {
        minor_frac *= 10;
    }
    let minor = major
        .checked_mul(10i64.pow(exp as u32))
        .and_then(|m| m.checked_add(minor_frac))
        .ok_or_else(too_big)?;
    parse_amount_minor(minor).map_err(|_| too_big())
}

/// Formats minor units as a decimal in major units ("1234.50").
pub fn format_minor(minor: i64, currency: CurrencyCode) -> String {
    let exp = currency.exponent() as u32;
    if exp == 0 {
        return minor.to_string();
    }
    let div = 10i64.pow(exp);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / div as u64,
        abs % div as u64,
        width = exp as usize
    )
}
