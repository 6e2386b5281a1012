//! The names a caller chooses: template names, locales and `data.*` fields.

use std::collections::HashMap;

use rapport_kit::{
    FieldErrors,
    domain::{check_text, truncate},
};

use super::limits::{MAX_DATA_ENTRIES, MAX_DATA_VALUE};

/// Checks the values given for a template's `data.*` fields: at most
/// [`MAX_DATA_ENTRIES`], each named like a field, none longer than
/// [`MAX_DATA_VALUE`].
pub fn data(data: &HashMap<String, String>, errors: &mut FieldErrors) {
    if data.len() > MAX_DATA_ENTRIES {
        errors.add(
            "data",
            format!(
                "has {} entries; at most {MAX_DATA_ENTRIES} are accepted",
                data.len()
            ),
        );
        return;
    }
    for (key, value) in data {
        if !is_identifier(key) {
            errors.add(format!("data.{}", truncate(key, 64)), "is not a field name");
        } else if let Err(e) = check_text(value, MAX_DATA_VALUE) {
            errors.add(format!("data.{key}"), e);
        }
    }
}

/// A template name: letters, digits, `_`, `-` and `.`, up to 100 bytes.
pub fn template_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 100 {
        return Err("must be 1 to 100 bytes".to_owned());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err("may hold letters, digits, '_', '-' and '.' only".to_owned());
    }
    Ok(())
}

/// A BCP 47 tag in its common shape: `de`, `de-CH`, `zh-Hant-TW`.
pub fn locale(tag: &str) -> Result<(), String> {
    let ok = tag.len() <= 35
        && tag.split('-').enumerate().all(|(i, part)| {
            let len_ok = if i == 0 {
                (2..=3).contains(&part.len())
            } else {
                (2..=8).contains(&part.len())
            };
            len_ok && part.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not a locale such as \"de\" or \"de-CH\"",
            truncate(tag, 40)
        ))
    }
}

/// True for `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 64
}
