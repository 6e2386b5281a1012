//! Runtime values and the variable bindings a program is evaluated against.

mod display;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A runtime value. Objects are maps with string keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    Uint(u64),
    /// A double.
    Double(f64),
    /// A string.
    String(Arc<str>),
    /// A list.
    List(Arc<[Value]>),
    /// A map, or an object keyed by field name.
    Map(Arc<BTreeMap<MapKey, Value>>),
}

/// A map key: CEL allows bool, int, uint and string keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MapKey {
    /// A boolean key.
    Bool(bool),
    /// A signed integer key.
    Int(i64),
    /// An unsigned integer key.
    Uint(u64),
    /// A string key.
    String(Arc<str>),
}

impl Value {
    /// An object value (a map keyed by field name).
    pub fn object<'a>(fields: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
        Value::map(
            fields
                .into_iter()
                .map(|(k, v)| (MapKey::String(Arc::from(k)), v)),
        )
    }

    /// A list value.
    pub fn list(items: impl IntoIterator<Item = Value>) -> Value {
        Value::List(items.into_iter().collect())
    }

    /// A `map(string, string)` value, e.g. customer attributes.
    pub fn string_map<K: AsRef<str>, V: AsRef<str>>(
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Value {
        Value::map(entries.into_iter().map(|(k, v)| {
            (
                MapKey::String(Arc::from(k.as_ref())),
                Value::from(v.as_ref()),
            )
        }))
    }

    /// A map value from arbitrary keys; a later duplicate key wins.
    pub fn map(entries: impl IntoIterator<Item = (MapKey, Value)>) -> Value {
        Value::Map(Arc::new(entries.into_iter().collect()))
    }

    /// The CEL name of the value's runtime type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null_type",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Uint(_) => "uint",
            Value::Double(_) => "double",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// `From` for each Rust type a [`Value`] variant holds, converting with `Into` where the
/// variant holds a shared form (`Arc<str>`, `Arc<[Value]>`).
macro_rules! value_from {
    ($($ty:ty => $variant:ident),* $(,)?) => {
        $(impl From<$ty> for Value {
            fn from(v: $ty) -> Self {
                Value::$variant(v.into())
            }
        })*
    };
}

value_from!(
    bool => Bool,
    i64 => Int,
    u64 => Uint,
    f64 => Double,
    &str => String,
    String => String,
    Vec<Value> => List,
);

impl From<&str> for MapKey {
    fn from(v: &str) -> Self {
        MapKey::String(Arc::from(v))
    }
}

impl From<MapKey> for Value {
    fn from(k: MapKey) -> Self {
        match k {
            MapKey::Bool(b) => Value::Bool(b),
            MapKey::Int(i) => Value::Int(i),
            MapKey::Uint(u) => Value::Uint(u),
            MapKey::String(s) => Value::String(s),
        }
    }
}

/// The values bound to a program's variables for one evaluation.
#[derive(Debug, Clone, Default)]
pub struct Activation {
    bindings: HashMap<String, Value>,
}

impl Activation {
    /// No bindings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Binds (or rebinds) a variable.
    pub fn bind(&mut self, name: &str, value: Value) -> &mut Self {
        self.bindings.insert(name.to_owned(), value);
        self
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.bindings.get(name)
    }
}
