//! The stored names of statuses, channels and purposes, and their wire forms.

use rapport_proto::v1 as pb;

/// Where a notification is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for its first or next attempt.
    Pending,
    /// The receiver accepted it.
    Delivered,
    /// No more attempts will be made.
    DeadLetter,
    /// Never sent, by policy; the reason is kept.
    Suppressed,
    /// Accepted for a later time.
    Scheduled,
}

impl Status {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::DeadLetter => "dead_letter",
            Status::Suppressed => "suppressed",
            Status::Scheduled => "scheduled",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "pending" => Some(Status::Pending),
            "delivered" => Some(Status::Delivered),
            "dead_letter" => Some(Status::DeadLetter),
            "suppressed" => Some(Status::Suppressed),
            "scheduled" => Some(Status::Scheduled),
            _ => None,
        }
    }

    pub(super) fn to_proto(self) -> pb::NotificationStatus {
        match self {
            Status::Pending => pb::NotificationStatus::Pending,
            Status::Delivered => pb::NotificationStatus::Delivered,
            Status::DeadLetter => pb::NotificationStatus::DeadLetter,
            Status::Suppressed => pb::NotificationStatus::Suppressed,
            Status::Scheduled => pb::NotificationStatus::Scheduled,
        }
    }
}

/// The stored name of a purpose.
pub fn purpose_name(purpose: pb::Purpose) -> &'static str {
    match purpose {
        pb::Purpose::Marketing => "marketing",
        pb::Purpose::Transactional | pb::Purpose::Unspecified => "transactional",
    }
}

pub(super) fn purpose_from_name(name: &str) -> pb::Purpose {
    match name {
        "marketing" => pb::Purpose::Marketing,
        _ => pb::Purpose::Transactional,
    }
}

/// The stored name of a channel.
pub fn channel_name(channel: pb::Channel) -> &'static str {
    match channel {
        pb::Channel::Email => "email",
        pb::Channel::Sms => "sms",
        pb::Channel::Webhook => "webhook",
        pb::Channel::Unspecified => "unspecified",
    }
}

/// The channel a stored name stands for.
pub fn channel_from_name(name: &str) -> pb::Channel {
    match name {
        "email" => pb::Channel::Email,
        "sms" => pb::Channel::Sms,
        "webhook" => pb::Channel::Webhook,
        _ => pb::Channel::Unspecified,
    }
}
