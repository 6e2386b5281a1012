//! The built-in functions. This list is the whole of what a rule can call: none of them
//! reads the clock, the environment, files or the network.

use crate::suggest;
use crate::types::Type;

/// Functions called as `f(x)`.
const GLOBAL: &[&str] = &["size", "int", "uint", "double", "string", "bool", "dyn"];
/// Functions called as `x.f(...)`.
const METHODS: &[&str] = &[
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "lowerAscii",
    "upperAscii",
    "trim",
];

/// Refuses names that are not built in, before their arguments are looked at.
pub(super) fn known(name: &str, is_method: bool) -> Result<(), String> {
    let names = if is_method { METHODS } else { GLOBAL };
    if names.contains(&name) {
        return Ok(());
    }
    if name == "matches" {
        return Err(
            "regular expressions (matches) are not supported; use contains, startsWith or endsWith"
                .to_owned(),
        );
    }
    let form = if is_method { "method" } else { "function" };
    let all = GLOBAL.iter().chain(METHODS).copied();
    Err(format!(
        "unknown {form} '{name}'{}; rules can call only the built-in functions",
        suggest::hint(name, all)
    ))
}

fn signature(name: &str, target: Option<&Type>, args: &[Type]) -> String {
    let list = args
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    match target {
        Some(t) => format!("no matching overload for '{name}' applied to ({t}).{name}({list})"),
        None => format!("no matching overload for '{name}' applied to ({list})"),
    }
}

fn is(t: &Type, options: &[Type]) -> bool {
    *t == Type::Dyn || options.contains(t)
}

pub(super) fn check(name: &str, target: Option<&Type>, args: &[Type]) -> Result<Type, String> {
    let fail = || signature(name, target, args);
    let sized = |t: &Type| matches!(t, Type::String | Type::List(_) | Type::Map(..) | Type::Dyn);
    let result = match (name, target, args) {
        ("size", None, [t]) | ("size", Some(t), []) if sized(t) => Type::Int,
        ("contains" | "startsWith" | "endsWith", Some(t), [a])
            if is(t, &[Type::String]) && is(a, &[Type::String]) =>
        {
            Type::Bool
        }
        ("lowerAscii" | "upperAscii" | "trim", Some(t), []) if is(t, &[Type::String]) => {
            Type::String
        }
        ("int", None, [t]) if is(t, &[Type::Int, Type::Uint, Type::Double, Type::String]) => {
            Type::Int
        }
        ("uint", None, [t]) if is(t, &[Type::Int, Type::Uint, Type::Double, Type::String]) => {
            Type::Uint
        }
        ("double", None, [t]) if is(t, &[Type::Int, Type::Uint, Type::Double, Type::String]) => {
            Type::Double
        }
        ("string", None, [t])
            if is(
                t,
                &[
                    Type::Int,
                    Type::Uint,
                    Type::Double,
                    Type::String,
                    Type::Bool,
                ],
            ) =>
        {
            Type::String
        }
        ("bool", None, [t]) if is(t, &[Type::Bool, Type::String]) => Type::Bool,
        ("dyn", None, [_]) => Type::Dyn,
        _ => return Err(fail()),
    };
    Ok(result)
}
