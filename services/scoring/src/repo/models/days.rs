//! The scan of `customer_days` that fits are made from.

use futures::TryStreamExt;
use rapport_kit::{db::Id, on_pool};
use uuid::Uuid;

use super::ModelRepo;

/// One purchase day of one customer, as fits read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRow {
    /// The customer.
    pub customer_id: Uuid,
    /// UTC day number.
    pub day: i64,
    /// Purchases that day, minor units.
    pub amount: i64,
}

impl ModelRepo {
    /// Every purchase day of the tenant up to and including `last_day`,
    /// ordered by customer then day, fed to `each` as it streams in.
    pub async fn scan_days(
        &self,
        tenant: Uuid,
        last_day: i64,
        each: &mut (dyn FnMut(DayRow) + Send),
    ) -> Result<(), sqlx::Error> {
        // Postgres keeps days as integer; every day a time can fall on fits.
        let last_day = last_day.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
        on_pool!(&self.db, pool => {
            let mut rows = sqlx::query_as::<_, (Id, i32, i64)>(
                "SELECT customer_id, day, purchase_minor FROM customer_days \
                 WHERE tenant_id = $1 AND day <= $2 ORDER BY customer_id, day",
            )
            .bind(Id(tenant))
            .bind(last_day)
            .fetch(pool);
            while let Some((customer, day, amount)) = rows.try_next().await? {
                each(DayRow {
                    customer_id: customer.0,
                    day: day as i64,
                    amount,
                });
            }
        });
        Ok(())
    }
}
