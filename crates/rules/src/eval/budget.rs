//! What an evaluation may spend: every step is charged against the cost budget, and every
//! string and list is checked against the size limits before it is built.

use super::Eval;
use crate::error::{EvalErrorKind, Fault};

/// Bytes of string work that cost one unit.
const BYTES_PER_COST: usize = 8;

impl Eval<'_> {
    pub(crate) fn charge(&mut self, units: u64, offset: usize) -> Result<(), Fault> {
        self.cost = self.cost.saturating_add(units);
        if self.cost > self.limits.max_cost {
            return Err(Fault::new(
                EvalErrorKind::CostExceeded,
                offset,
                format!(
                    "rule exceeded its evaluation budget of {}",
                    self.limits.max_cost
                ),
            ));
        }
        Ok(())
    }

    /// Charges for touching `bytes` bytes of string data.
    pub(crate) fn charge_bytes(&mut self, bytes: usize, offset: usize) -> Result<(), Fault> {
        self.charge((bytes / BYTES_PER_COST) as u64, offset)
    }

    pub(crate) fn check_string_len(&self, len: usize, offset: usize) -> Result<(), Fault> {
        within_limit(len, self.limits.max_string_len, "string", "bytes", offset)
    }

    pub(crate) fn check_list_len(&self, len: usize, offset: usize) -> Result<(), Fault> {
        within_limit(len, self.limits.max_list_len, "list", "elements", offset)
    }
}

/// Refuses a `what` of `len` `unit`s when it is over `limit`.
fn within_limit(
    len: usize,
    limit: usize,
    what: &str,
    unit: &str,
    offset: usize,
) -> Result<(), Fault> {
    if len > limit {
        return Err(Fault::new(
            EvalErrorKind::LimitExceeded,
            offset,
            format!("{what} of {len} {unit} exceeds the limit of {limit}"),
        ));
    }
    Ok(())
}
