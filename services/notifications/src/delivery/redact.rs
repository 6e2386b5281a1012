//! What of a provider's answer is kept: the tenant reads a notification's
//! last error, so a provider's own words are kept only as a short summary
//! from which anything that may identify a person or open a door is gone.
//!
//! The summary keeps words made of letters only (at most
//! [`MAX_WORD_CHARS`] of them, hyphens inside allowed), numbers of at most
//! [`MAX_NUMBER_DIGITS`] digits (error codes, statuses) and punctuation.
//! Every other word becomes [`REDACTED`]: tokens and keys (letters mixed with
//! digits or `_`, or long), email addresses (`@`), URLs (`:` and `/`), and
//! phone, card and account numbers (a run of digit groups holding more than
//! [`MAX_NUMBER_DIGITS`] digits, however it is spaced). So is the word after
//! one that names a credential (`token`, `password`, `key`, ...), whatever it
//! looks like. What this cannot catch is a letters-only word that happens to
//! be personal, such as a name; providers' errors describe the request, so
//! that is rare, and the summary is cut to [`MAX_SUMMARY_CHARS`].

use rapport_kit::domain::truncate;

/// Longest summary kept, in characters.
pub const MAX_SUMMARY_CHARS: usize = 200;
/// Longest letters-only word kept.
pub const MAX_WORD_CHARS: usize = 24;
/// Most digits a kept number (or run of digit groups) may have.
pub const MAX_NUMBER_DIGITS: usize = 5;
/// What replaces a word that is not kept.
pub const REDACTED: &str = "[redacted]";
/// Most of the answer looked at, in characters.
const MAX_SCANNED_CHARS: usize = 4 * 1024;

/// Words after which the next word is a credential's value.
const CREDENTIAL_WORDS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "key",
    "apikey",
    "authorization",
    "bearer",
    "basic",
    "signature",
    "credential",
    "credentials",
    "session",
    "cookie",
    "auth",
];

/// A piece of the text: a word, or the separators between words.
enum Piece {
    Word(String),
    Gap(String),
}

/// Separators between words: kept as they are (whitespace collapsed).
fn is_gap(c: char) -> bool {
    c.is_whitespace() || c.is_control() || "\"'{}[](),;<>`\\".contains(c)
}

/// The part of a word that counts: without punctuation at either end.
fn core(word: &str) -> &str {
    word.trim_matches(|c: char| !c.is_alphanumeric())
}

/// Whether `word` is all digits between its punctuation (e.g. `+41`, `21211`).
fn digits(word: &str) -> Option<usize> {
    let core = core(word);
    (!core.is_empty() && core.chars().all(|c| c.is_ascii_digit())).then_some(core.len())
}

/// Whether `word` is safe to keep on its own.
fn safe(word: &str) -> bool {
    let core = core(word);
    if core.is_empty() {
        return word.chars().all(|c| !c.is_alphanumeric() && c != '@');
    }
    // Punctuation around the core must not join it to anything else.
    if word.contains(['@', '/', '=', '&', '%', '#', '?']) {
        return false;
    }
    if let Some(n) = digits(word) {
        return n <= MAX_NUMBER_DIGITS;
    }
    core.chars().count() <= MAX_WORD_CHARS
        && core.chars().all(|c| c.is_alphabetic() || c == '-')
        && !core.contains("--")
}

/// `text` split into words and the gaps between them.
fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_gap = false;
    for c in text.chars() {
        if is_gap(c) != in_gap && !current.is_empty() {
            let done = std::mem::take(&mut current);
            out.push(if in_gap {
                Piece::Gap(done)
            } else {
                Piece::Word(done)
            });
        }
        in_gap = is_gap(c);
        current.push(c);
    }
    if !current.is_empty() {
        out.push(if in_gap {
            Piece::Gap(current)
        } else {
            Piece::Word(current)
        });
    }
    out
}

/// Redacts runs of number words that together hold too many digits (a
/// phone number written `+41 79 123 45 67`), in place.
fn redact_number_runs(pieces: &mut [Piece]) {
    let mut i = 0;
    while i < pieces.len() {
        let mut total = 0;
        let mut end = i;
        let mut j = i;
        while j < pieces.len() {
            match &pieces[j] {
                Piece::Word(w) => match digits(w) {
                    Some(n) => {
                        total += n;
                        end = j;
                    }
                    None => break,
                },
                // Groups of one number are spaced or bracketed, nothing else.
                Piece::Gap(g) if g.chars().all(|c| c.is_whitespace() || c == '(' || c == ')') => {}
                Piece::Gap(_) => break,
            }
            j += 1;
        }
        if total > MAX_NUMBER_DIGITS {
            for piece in &mut pieces[i..=end] {
                if let Piece::Word(w) = piece {
                    *w = REDACTED.to_owned();
                }
            }
        }
        i = j.max(i + 1);
    }
}

/// A short summary of a provider's answer `body` that is safe to show the
/// tenant (see the module's documentation).
pub fn summary(body: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(body)
        .chars()
        .take(MAX_SCANNED_CHARS)
        .collect();
    let mut pieces = pieces(&text);
    redact_number_runs(&mut pieces);
    let mut after_credential = false;
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Gap(g) => {
                for c in g.chars() {
                    let c = if c.is_whitespace() || c.is_control() {
                        ' '
                    } else {
                        c
                    };
                    if !(c == ' ' && out.ends_with(' ')) {
                        out.push(c);
                    }
                }
            }
            Piece::Word(w) => {
                let credential = CREDENTIAL_WORDS.contains(&core(&w).to_lowercase().as_str());
                let keep = w == REDACTED || (safe(&w) && !after_credential);
                out.push_str(if keep { &w } else { REDACTED });
                // Punctuation alone (`:`) sits between a name and its value.
                if credential {
                    after_credential = true;
                } else if !core(&w).is_empty() {
                    after_credential = false;
                }
            }
        }
    }
    truncate(out.trim(), MAX_SUMMARY_CHARS)
}

#[cfg(test)]
mod tests;
