//! Typing how a rule reaches into values: variables (declared or comprehension-bound),
//! field selection and `has()`, and indexing, with a suggestion for a misspelt name.

use super::{CResult, Checker, Typed};
use crate::ast::Expr;
use crate::suggest;
use crate::types::Type;

impl Checker<'_> {
    pub(super) fn has(&mut self, operand: &mut Expr, field: &str, offset: usize) -> CResult<Type> {
        let mut on_object = false;
        let t = self.select(operand, field, &mut on_object, offset)?;
        if let Some(p) = t.path {
            self.refs.insert(p);
        }
        Ok(Type::Bool)
    }

    pub(super) fn ident(&self, name: &str, offset: usize) -> CResult<Typed> {
        if let Some((_, ty)) = self.locals.iter().rev().find(|(n, _)| n == name) {
            return Ok(Typed::plain(ty.clone()));
        }
        if let Some(ty) = self.vars.get(name) {
            return Ok(Typed {
                ty: ty.clone(),
                path: Some(name.to_owned()),
            });
        }
        let names = self
            .vars
            .keys()
            .map(String::as_str)
            .chain(self.locals.iter().map(|(n, _)| n.as_str()));
        Err(self.error(
            offset,
            format!(
                "undeclared reference to '{name}'{}",
                suggest::hint(name, names)
            ),
        ))
    }

    pub(super) fn select(
        &mut self,
        operand: &mut Expr,
        field: &str,
        on_object: &mut bool,
        offset: usize,
    ) -> CResult<Typed> {
        let op = self.typed(operand)?;
        if let Type::Object(obj) = &op.ty {
            let Some(ty) = obj.field_type(field) else {
                return Err(self.error(
                    offset,
                    format!(
                        "type '{}' has no field '{field}'{}",
                        obj.name(),
                        suggest::hint(field, obj.fields().map(|(n, _)| n))
                    ),
                ));
            };
            *on_object = true;
            return Ok(Typed {
                ty: ty.clone(),
                path: op.path.map(|p| format!("{p}.{field}")),
            });
        }
        if let Some(p) = op.path {
            self.refs.insert(p);
        }
        match op.ty {
            Type::Map(k, v) if matches!(*k, Type::String | Type::Dyn) => Ok(Typed::plain(*v)),
            Type::Dyn => Ok(Typed::plain(Type::Dyn)),
            other => Err(self.error(
                offset,
                format!("type '{other}' has no fields; cannot select '{field}'"),
            )),
        }
    }

    pub(super) fn index(
        &mut self,
        operand: &mut Expr,
        index: &mut Expr,
        offset: usize,
    ) -> CResult<Type> {
        let container = self.value(operand)?;
        let key = self.value(index)?;
        match &container {
            Type::List(elem) if matches!(&key, Type::Int | Type::Uint | Type::Dyn) => {
                Ok(*elem.clone())
            }
            Type::List(_) => {
                Err(self.error(offset, format!("a list index must be int, not {key}")))
            }
            Type::Map(k, v) if k.comparable(&key) && key != Type::Null => Ok(*v.clone()),
            Type::Map(k, _) => Err(self.error(
                offset,
                format!("a key of type {key} cannot be in a map with {k} keys"),
            )),
            Type::Dyn => Ok(Type::Dyn),
            Type::Object(o) => Err(self.error(
                offset,
                format!(
                    "fields of '{}' are read with '.field', not '[...]'",
                    o.name()
                ),
            )),
            other => Err(self.error(offset, format!("type '{other}' cannot be indexed"))),
        }
    }
}
