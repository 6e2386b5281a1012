//! A contact policy to save: every limit within its range.

use rapport_kit::FieldErrors;
use rapport_proto::v1 as pb;

use crate::{
    error::{Error, valid},
    model::ContactPolicy,
};

/// Parses the policy of an update; every bad limit is named under `policy.*`.
pub fn contact_policy(p: Option<pb::ContactPolicy>) -> Result<ContactPolicy, Error> {
    let Some(p) = p else {
        return Err(Error::invalid("policy", "required"));
    };
    let mut errors = FieldErrors::new();
    if p.max_messages == 0 || p.max_messages > 1_000 {
        errors.add("policy.max_messages", "must be within 1..=1000");
    }
    if p.window_hours == 0 || p.window_hours > 24 * 366 {
        errors.add("policy.window_hours", "must be within 1..=8784");
    }
    if p.cool_down_hours > 24 * 366 {
        errors.add("policy.cool_down_hours", "must be at most 8784");
    }
    if p.quiet_start_hour > 23 {
        errors.add("policy.quiet_start_hour", "must be an hour 0..=23");
    }
    if p.quiet_end_hour > 23 {
        errors.add("policy.quiet_end_hour", "must be an hour 0..=23");
    }
    valid(errors)?;
    Ok(ContactPolicy {
        max_messages: p.max_messages,
        window_hours: p.window_hours,
        cool_down_hours: p.cool_down_hours,
        quiet_start_hour: p.quiet_start_hour,
        quiet_end_hour: p.quiet_end_hour,
    })
}
