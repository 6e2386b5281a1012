//! Static types of the rules language, as the checker sees them.

use std::fmt;
use std::sync::Arc;

/// The static type of a variable or an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// `true` / `false`.
    Bool,
    /// Signed 64-bit integer, e.g. `42`.
    Int,
    /// Unsigned 64-bit integer, e.g. `42u`.
    Uint,
    /// 64-bit floating point, e.g. `42.0`.
    Double,
    /// UTF-8 text.
    String,
    /// The type of `null`.
    Null,
    /// A list whose elements have the given type.
    List(Box<Type>),
    /// A map from keys of the first type to values of the second.
    Map(Box<Type>, Box<Type>),
    /// A named record with declared fields; at runtime a map keyed by field name.
    Object(Arc<ObjectType>),
    /// Known only at runtime; every operation is checked when it runs.
    Dyn,
}

impl Type {
    /// Shorthand for `Type::List(Box::new(elem))`.
    pub fn list(elem: Type) -> Type {
        Type::List(Box::new(elem))
    }

    /// Shorthand for `Type::Map(Box::new(key), Box::new(value))`.
    pub fn map(key: Type, value: Type) -> Type {
        Type::Map(Box::new(key), Box::new(value))
    }

    /// Shorthand for `Type::Object(Arc::new(object))`.
    pub fn object(object: ObjectType) -> Type {
        Type::Object(Arc::new(object))
    }

    pub(crate) fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Uint | Type::Double)
    }

    /// The smallest type covering both: itself when equal, `dyn` otherwise.
    pub(crate) fn join(&self, other: &Type) -> Type {
        match (self, other) {
            _ if self == other => self.clone(),
            (Type::List(a), Type::List(b)) => Type::list(a.join(b)),
            (Type::Map(ka, va), Type::Map(kb, vb)) => Type::map(ka.join(kb), va.join(vb)),
            _ => Type::Dyn,
        }
    }

    /// Whether values of the two types may meet in `==`, `in` or a map lookup.
    pub(crate) fn comparable(&self, other: &Type) -> bool {
        match (self, other) {
            (Type::Dyn, _) | (_, Type::Dyn) | (Type::Null, _) | (_, Type::Null) => true,
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (Type::List(a), Type::List(b)) => a.comparable(b),
            (Type::Map(ka, va), Type::Map(kb, vb)) => ka.comparable(kb) && va.comparable(vb),
            (Type::Object(_), Type::Map(k, _)) | (Type::Map(k, _), Type::Object(_)) => {
                matches!(**k, Type::String | Type::Dyn)
            }
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Uint => f.write_str("uint"),
            Type::Double => f.write_str("double"),
            Type::String => f.write_str("string"),
            Type::Null => f.write_str("null_type"),
            Type::List(e) => write!(f, "list({e})"),
            Type::Map(k, v) => write!(f, "map({k}, {v})"),
            Type::Object(o) => f.write_str(o.name()),
            Type::Dyn => f.write_str("dyn"),
        }
    }
}

/// A named record type with typed fields, e.g. the `score` a rule reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectType {
    name: String,
    // A Vec keeps declaration order for docs and suggestions; objects are small.
    fields: Vec<(String, Type)>,
}

impl ObjectType {
    /// An object type with no fields yet.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            fields: Vec::new(),
        }
    }

    /// Declares (or redeclares) a field.
    pub fn field(mut self, name: &str, ty: Type) -> Self {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = ty,
            None => self.fields.push((name.to_owned(), ty)),
        }
        self
    }

    /// The type's name, used in error messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The declared fields in declaration order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Type)> {
        self.fields.iter().map(|(n, t)| (n.as_str(), t))
    }

    /// The type of one field, if declared.
    pub fn field_type(&self, name: &str) -> Option<&Type> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}
