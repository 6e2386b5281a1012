//! Merging the layers: a file's table over the defaults, and a dotted key from
//! the environment or a flag typed after the default value at its path.

use std::{collections::BTreeMap, path::Path};

use serde_json::Value;

use super::ConfigError;

/// The TOML file as a JSON value.
pub(super) fn read_file(path: &Path) -> Result<Value, ConfigError> {
    let file_error = |message: String| ConfigError::File {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| file_error(e.to_string()))?;
    serde_json::to_value(table).map_err(|e| file_error(e.to_string()))
}

/// Lays `over` on `base`, table by table.
pub(super) fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o,
    }
}

/// Sets `path` to `raw`, typed after the default value found at that path.
pub(super) fn set_path(
    root: &mut Value,
    defaults: &Value,
    path: &[&str],
    raw: &str,
) -> Result<(), ConfigError> {
    let unknown = || unknown_setting(path);
    let mut shape = defaults;
    for key in path {
        shape = shape.get(*key).ok_or_else(unknown)?;
    }
    let typed = typed(shape, raw, path)?;
    let mut node = root;
    for key in &path[..path.len() - 1] {
        node = node.get_mut(*key).ok_or_else(unknown)?;
    }
    node[path[path.len() - 1]] = typed;
    Ok(())
}

/// Sets `rest` inside the section named by `path[0]`, untyped: the section's
/// owner types it ([`apply`]), since only it knows the shape.
pub(super) fn set_raw(
    sections: &mut BTreeMap<String, Value>,
    path: &[&str],
    rest: &[&str],
    raw: &str,
) -> Result<(), ConfigError> {
    let Some((last, parents)) = rest.split_last() else {
        return Err(unknown_setting(path));
    };
    let mut node = sections
        .entry(path[0].to_owned())
        .or_insert_with(|| Value::Object(Default::default()));
    for key in parents {
        if !node.is_object() {
            *node = Value::Object(Default::default());
        }
        node = node
            .as_object_mut()
            .map(|o| o.entry(*key).or_insert(Value::Object(Default::default())))
            .ok_or_else(|| unknown_setting(path))?;
    }
    match node.as_object_mut() {
        Some(table) => {
            table.insert((*last).to_owned(), Value::String(raw.to_owned()));
            Ok(())
        }
        None => Err(unknown_setting(path)),
    }
}

/// Lays a section's `layered` values over its defaults (`value`), typing
/// strings from the environment after the default at the same path.
pub(super) fn apply<'a>(
    value: &mut Value,
    defaults: &Value,
    layered: &'a Value,
    path: &mut Vec<&'a str>,
) -> Result<(), ConfigError> {
    let Value::Object(table) = layered else {
        return Err(unknown_setting(path));
    };
    for (key, over) in table {
        path.push(key);
        let shape = defaults.get(key).ok_or_else(|| unknown_setting(path))?;
        match (shape, over) {
            (Value::Object(_), Value::Object(_)) => {
                let slot = value.get_mut(key).ok_or_else(|| unknown_setting(path))?;
                apply(slot, shape, over, path)?;
            }
            (Value::Object(_), _) => return Err(unknown_setting(path)),
            (_, Value::String(raw)) => value[key.as_str()] = typed(shape, raw, path)?,
            (_, other) => value[key.as_str()] = other.clone(),
        }
        path.pop();
    }
    Ok(())
}

fn typed(shape: &Value, raw: &str, path: &[&str]) -> Result<Value, ConfigError> {
    Ok(match shape {
        Value::Number(_) => {
            let n: serde_json::Number = raw.trim().parse().map_err(|_| {
                ConfigError::Invalid(format!("{} must be a number, not {raw:?}", path.join(".")))
            })?;
            Value::Number(n)
        }
        Value::Bool(_) => Value::Bool(matches!(raw.trim(), "1" | "true" | "yes" | "on")),
        Value::Object(_) => return Err(unknown_setting(path)),
        _ => Value::String(raw.to_owned()),
    })
}

fn unknown_setting(path: &[&str]) -> ConfigError {
    ConfigError::Invalid(format!("unknown setting {}", path.join(".")))
}
