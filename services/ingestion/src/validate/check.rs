//! Collects what is wrong with one row, field by field, into the `RowError`s
//! the response carries.

use rapport_proto::v1::RowError;

/// `google.rpc.Code::InvalidArgument`.
const CODE_INVALID_ARGUMENT: i32 = 3;

/// A refused row.
pub(crate) fn row_error(index: u32, field: String, reason: String, code: i32) -> RowError {
    RowError {
        index,
        field,
        reason,
        code,
    }
}

/// Records the first violation found in one row.
pub(crate) struct RowCheck {
    index: u32,
    prefix: String,
    failures: Vec<(String, String)>,
}

/// Most problems reported for one row: enough for any real row (it has
/// fewer fields), a bound for a hostile one.
const MAX_PROBLEMS_PER_ROW: usize = 16;

impl RowCheck {
    /// Checks row `index` of the list `list` ("transactions", "events").
    pub(crate) fn new(list: &str, index: u32) -> Self {
        RowCheck {
            index,
            prefix: format!("{list}[{index}]"),
            failures: Vec::new(),
        }
    }

    /// The field path of `field` in this row.
    pub(crate) fn path(&self, field: &str) -> String {
        format!("{}.{field}", self.prefix)
    }

    /// Records `reason` against `field`. Every field that fails is
    /// reported, so a row with three problems is fixed in one pass; a field
    /// is reported once (its first problem).
    pub(crate) fn fail(&mut self, field: &str, reason: impl Into<String>) {
        let path = self.path(field);
        if self.failures.len() < MAX_PROBLEMS_PER_ROW
            && !self.failures.iter().any(|(f, _)| *f == path)
        {
            self.failures.push((path, reason.into()));
        }
    }

    /// Keeps an `Ok` value; records an `Err` against `field`.
    pub(crate) fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(reason) => {
                self.fail(field, reason);
                None
            }
        }
    }

    /// A row-level error for a row refused without a field to blame (only
    /// reachable if a check forgot to record its reason).
    pub(crate) fn invalid(self) -> RowError {
        row_error(
            self.index,
            self.prefix,
            "is not a valid row".to_owned(),
            CODE_INVALID_ARGUMENT,
        )
    }

    /// Whether any field failed.
    pub(crate) fn failed(&self) -> bool {
        !self.failures.is_empty()
    }

    /// The row's errors, one per failed field in the order checked; empty
    /// when none failed.
    pub(crate) fn errors(self) -> Vec<RowError> {
        let index = self.index;
        self.failures
            .into_iter()
            .map(|(field, reason)| row_error(index, field, reason, CODE_INVALID_ARGUMENT))
            .collect()
    }

    /// The row's errors; a row refused without a recorded reason (a check
    /// that forgot to record one) still gets a row-level error.
    pub(crate) fn refusal(self) -> Vec<RowError> {
        if self.failed() {
            self.errors()
        } else {
            vec![self.invalid()]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failed_field_is_reported_once() {
        let mut c = RowCheck::new("events", 1);
        c.fail("source", "required");
        c.fail("kind", "bad");
        c.fail("source", "too long");
        let errors = c.errors();
        assert_eq!(
            errors
                .iter()
                .map(|e| (e.index, e.field.as_str(), e.reason.as_str()))
                .collect::<Vec<_>>(),
            [
                (1, "events[1].source", "required"),
                (1, "events[1].kind", "bad")
            ]
        );
    }
}
