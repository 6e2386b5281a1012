//! Map literals and the comprehension macros.

use super::{CResult, Checker};
use crate::ast::{Comprehension, Expr, MacroKind};
use crate::types::Type;

impl Checker<'_> {
    pub(super) fn map_literal(&mut self, entries: &mut [(Expr, Expr)]) -> CResult<Type> {
        let mut key_ty: Option<Type> = None;
        let mut val_ty: Option<Type> = None;
        for (k, v) in entries.iter_mut() {
            let kt = self.value(k)?;
            if !matches!(
                kt,
                Type::Bool | Type::Int | Type::Uint | Type::String | Type::Dyn
            ) {
                return Err(self.error(
                    k.offset,
                    format!("map keys must be bool, int, uint or string, not {kt}"),
                ));
            }
            let vt = self.value(v)?;
            key_ty = Some(key_ty.map_or(kt.clone(), |t| t.join(&kt)));
            val_ty = Some(val_ty.map_or(vt.clone(), |t| t.join(&vt)));
        }
        Ok(Type::map(
            key_ty.unwrap_or(Type::Dyn),
            val_ty.unwrap_or(Type::Dyn),
        ))
    }

    pub(super) fn comprehension(&mut self, c: &mut Comprehension, offset: usize) -> CResult<Type> {
        let kind = c.kind;
        let (range, var, body) = (&mut *c.range, c.var.as_str(), &mut *c.body);
        let transform = c.transform.as_deref_mut();
        let range_ty = self.value(range)?;
        let elem = match &range_ty {
            Type::List(e) => *e.clone(),
            Type::Map(k, _) => *k.clone(),
            Type::Dyn => Type::Dyn,
            other => {
                return Err(self.error(
                    offset,
                    format!("{}() needs a list or a map, not {other}", kind.name()),
                ));
            }
        };
        self.locals.push((var.to_owned(), elem.clone()));
        let result = self.comprehension_body(kind, body, transform, elem);
        self.locals.pop();
        result
    }

    pub(super) fn comprehension_body(
        &mut self,
        kind: MacroKind,
        body: &mut Expr,
        transform: Option<&mut Expr>,
        elem: Type,
    ) -> CResult<Type> {
        let body_ty = self.value(body)?;
        let needs_predicate = !(kind == MacroKind::Map && transform.is_none());
        if needs_predicate && !matches!(body_ty, Type::Bool | Type::Dyn) {
            return Err(self.error(
                body.offset,
                format!("the predicate of {}() is {body_ty}, not bool", kind.name()),
            ));
        }
        Ok(match kind {
            MacroKind::All | MacroKind::Exists | MacroKind::ExistsOne => Type::Bool,
            MacroKind::Filter => Type::list(elem),
            MacroKind::Map => match transform {
                Some(t) => Type::list(self.value(t)?),
                None => Type::list(body_ty),
            },
        })
    }
}
