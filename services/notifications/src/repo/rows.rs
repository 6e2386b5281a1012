//! How each table's rows are read back, one function per row for either
//! backend: ids and times through the kit's codecs, counts checked to be
//! non-negative.

use chrono::{DateTime, Utc};
use rapport_kit::db::{Id, Time};
use sqlx::{ColumnIndex, Decode, Row, Type};
use uuid::Uuid;

use crate::{
    error::Error,
    model::{Attempt, Claimed, ContactPolicy, Notification, Status, Template},
};

/// Typed column reads on a Postgres or SQLite row.
pub(super) trait Columns {
    /// A uuid column.
    fn id(&self, column: &str) -> Result<Uuid, Error>;
    /// A time column.
    fn time(&self, column: &str) -> Result<DateTime<Utc>, Error>;
    /// A nullable time column.
    fn maybe_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, Error>;
    /// A text column.
    fn text(&self, column: &str) -> Result<String, Error>;
    /// A boolean column.
    fn flag(&self, column: &str) -> Result<bool, Error>;
    /// An integer column.
    fn int(&self, column: &str) -> Result<i32, Error>;

    /// An integer column that holds a count, so is never negative.
    fn count(&self, column: &str) -> Result<u32, Error> {
        let n = self.int(column)?;
        u32::try_from(n).map_err(|_| Error::Corrupt(format!("{column} {n} out of range")))
    }

    /// A notification's status column.
    fn status(&self, column: &str) -> Result<Status, Error> {
        let s = self.text(column)?;
        Status::parse(&s).ok_or_else(|| Error::Corrupt(format!("status {s:?}")))
    }
}

impl<R> Columns for R
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    for<'r> Id: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Time: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i32: Decode<'r, R::Database> + Type<R::Database>,
{
    fn id(&self, column: &str) -> Result<Uuid, Error> {
        Ok(self.try_get::<Id, _>(column)?.0)
    }

    fn time(&self, column: &str) -> Result<DateTime<Utc>, Error> {
        Ok(self.try_get::<Time, _>(column)?.0)
    }

    fn maybe_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, Error> {
        Ok(self.try_get::<Option<Time>, _>(column)?.map(|t| t.0))
    }

    fn text(&self, column: &str) -> Result<String, Error> {
        Ok(self.try_get(column)?)
    }

    fn flag(&self, column: &str) -> Result<bool, Error> {
        Ok(self.try_get(column)?)
    }

    fn int(&self, column: &str) -> Result<i32, Error> {
        Ok(self.try_get(column)?)
    }
}

/// A `notifications` row as selected by `get.sql`, `list.sql` and the like.
pub(super) fn notification(r: &impl Columns) -> Result<Notification, Error> {
    Ok(Notification {
        id: r.id("id")?,
        customer_id: r.id("customer_id")?,
        dedupe_key: r.text("dedupe_key")?,
        channel: r.text("channel")?,
        destination: r.text("destination")?,
        subject: r.text("subject")?,
        body: r.text("body")?,
        status: r.status("status")?,
        attempt_count: r.count("attempt_count")?,
        created_at: r.time("created_at")?,
        next_attempt_at: r.maybe_time("next_attempt_at")?,
        delivered_at: r.maybe_time("delivered_at")?,
        last_error: r.text("last_error")?,
        provider_message_id: r.text("provider_message_id")?,
        suppressed_reason: r.text("suppressed_reason")?,
        purpose: r.text("purpose")?,
        template: r.text("template")?,
        locale: r.text("locale")?,
        template_version: r.count("template_version")?,
        origin: r.text("origin")?,
        integration_endpoint: r.text("integration_endpoint")?,
        send_at: r.maybe_time("send_at")?,
    })
}

/// An `attempts` row.
pub(super) fn attempt(r: &impl Columns) -> Result<Attempt, Error> {
    Ok(Attempt {
        number: r.count("number")?,
        started_at: r.time("started_at")?,
        succeeded: r.flag("succeeded")?,
        http_status: r.int("http_status")?,
        error: r.text("error")?,
        duration_ms: r.count("duration_ms")?,
        retry_delay_ms: r.count("retry_delay_ms")?,
    })
}

/// A row the claim returned, for the attempt it starts.
pub(super) fn claimed(r: &impl Columns, lease_id: Uuid) -> Result<Claimed, Error> {
    Ok(Claimed {
        tenant_id: r.id("tenant_id")?,
        customer_id: r.id("customer_id")?,
        id: r.id("id")?,
        channel: r.text("channel")?,
        dedupe_key: r.text("dedupe_key")?,
        destination: r.text("destination")?,
        subject: r.text("subject")?,
        body: r.text("body")?,
        created_at: r.time("created_at")?,
        attempt: r.count("attempt_count")? + 1,
        integration_endpoint: r.text("integration_endpoint")?,
        lease_id,
    })
}

/// A `templates` row.
pub(super) fn template(r: &impl Columns) -> Result<Template, Error> {
    let required = r.text("required_data")?;
    Ok(Template {
        name: r.text("name")?,
        channel: r.text("channel")?,
        locale: r.text("locale")?,
        version: r.count("version")?,
        subject: r.text("subject")?,
        body: r.text("body")?,
        required_data: serde_json::from_str(&required)
            .map_err(|e| Error::Corrupt(format!("required_data: {e}")))?,
        default_locale: r.flag("default_locale")?,
        updated_at: r.time("updated_at")?,
    })
}

/// A `contact_policies` row.
pub(super) fn policy(r: &impl Columns) -> Result<ContactPolicy, Error> {
    Ok(ContactPolicy {
        max_messages: r.count("max_messages")?,
        window_hours: r.count("window_hours")?,
        cool_down_hours: r.count("cool_down_hours")?,
        quiet_start_hour: r.count("quiet_start_hour")?,
        quiet_end_hour: r.count("quiet_end_hour")?,
    })
}

/// A count as an SQL integer; values past `i32::MAX` cannot occur in practice
/// (attempts are few, durations bounded by the timeout) and saturate.
pub(super) fn sql_int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
