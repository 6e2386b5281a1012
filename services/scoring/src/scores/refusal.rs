//! Which storage failures of applying changes are the changes' own fault, so
//! applying them again would fail again (they become dead letters), and
//! which are the database's (the call fails and is sent again).

/// Why a change that would push a customer's totals past 64 bits is refused,
/// on either store.
pub const OUT_OF_RANGE: &str = "customer totals would exceed the representable range";

/// The reason changes cannot be applied when `e` comes from the data they
/// carry; `None` when it does not (the database unavailable, a bug), which
/// fails the whole call instead.
pub fn reason(e: &sqlx::Error) -> Option<String> {
    // A dedupe partition missing even after the apply made it: the
    // database's state, not the change's (a check_violation all the same).
    if crate::dedupe::store::missing_partition(e) {
        return None;
    }
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            let message = db.message();
            // Postgres numeric_value_out_of_range (bigint sums); SQLite's
            // sum() overflow and the range triggers of migration 5.
            if code == "22003"
                || message.contains(OUT_OF_RANGE)
                || message.contains("integer overflow")
            {
                return Some(OUT_OF_RANGE.to_owned());
            }
            caused_by_data(&code).then(|| format!("the store refused the change: {message}"))
        }
        // A value written that cannot be read back as it should be.
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            Some(format!("the change leaves values that cannot be read: {e}"))
        }
        _ => None,
    }
}

/// Postgres data exceptions (class 22) and integrity violations (class 23);
/// SQLite constraint, too big, mismatch and range errors.
fn caused_by_data(code: &str) -> bool {
    // A SQLSTATE has five characters; SQLite's (extended) codes are numbers
    // of at most four digits.
    if code.len() == 5 {
        return code.starts_with("22") || code.starts_with("23");
    }
    code.parse::<i32>()
        .is_ok_and(|sqlite| matches!(sqlite & 0xff, 18 | 19 | 20 | 25))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_data_errors_are_the_changes_fault() {
        assert!(caused_by_data("22003") && caused_by_data("23502") && caused_by_data("1811"));
        for transient in ["40001", "57P01", "08006", "53300", "5", "6", "42P01"] {
            assert!(!caused_by_data(transient), "{transient}");
        }
        assert_eq!(reason(&sqlx::Error::PoolTimedOut), None);
        assert_eq!(reason(&sqlx::Error::PoolClosed), None);
    }
}
