//! CEL's commutative `&&` and `||`: a decisive operand wins over an error on either side.

use super::{EResult, Eval, mismatch};
use crate::ast::Expr;
use crate::error::Fault;
use crate::value::Value;

impl<'a> Eval<'a> {
    /// A boolean operand of `&&`/`||`; a non-bool is an error that the other side may absorb.
    pub(super) fn truth(&mut self, e: &'a Expr) -> Result<bool, Fault> {
        match self.eval(e)? {
            Value::Bool(b) => Ok(b),
            other => Err(mismatch(
                e.offset,
                format!("expected bool, found {}", other.type_name()),
            )),
        }
    }

    /// CEL's commutative `&&` (decisive = false) and `||` (decisive = true): the decisive
    /// value wins over an error on either side; otherwise the first error is reported.
    pub(super) fn logic(&mut self, left: &'a Expr, right: &'a Expr, decisive: bool) -> EResult {
        let l = self.truth(left);
        match &l {
            Ok(b) if *b == decisive => return Ok(Value::Bool(decisive)),
            Err(f) if f.is_fatal() => return Err(f.clone()),
            _ => {}
        }
        let r = self.truth(right);
        match (l, r) {
            (_, Err(f)) if f.is_fatal() => Err(f),
            (_, Ok(b)) if b == decisive => Ok(Value::Bool(decisive)),
            (Err(f), _) | (_, Err(f)) => Err(f),
            (Ok(_), Ok(_)) => Ok(Value::Bool(!decisive)),
        }
    }
}
