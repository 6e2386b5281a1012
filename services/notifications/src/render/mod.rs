//! The template language: text with `{{ field | filter }}` tags over a closed
//! set of fields. Templates are parsed when saved ([`parse`]), so a send never
//! meets an unknown field, an unclosed tag or a bad filter.

mod parse;
mod text;

pub use parse::parse;
pub use text::{Field, Parsed, Values};

#[cfg(test)]
mod tests;
