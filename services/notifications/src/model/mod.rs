//! What the service works with: notifications as accepted and stored, their
//! delivery attempts, templates and the tenant's contact policy, each with
//! its wire form.

mod attempt;
mod endpoint;
mod names;
mod new;
mod notification;
mod policy;
mod template;

pub use attempt::{Attempt, Claimed, Next};
pub use endpoint::Endpoint;
pub use names::{Status, channel_from_name, channel_name, purpose_name};
pub use new::NewNotification;
pub use notification::Notification;
pub use policy::ContactPolicy;
pub use template::Template;

use chrono::{DateTime, Utc};

/// Truncates `t` to whole microseconds, the precision both stores keep.
pub fn to_micros_precision(t: DateTime<Utc>) -> DateTime<Utc> {
    rapport_kit::domain::from_micros(rapport_kit::domain::to_micros(t))
}
