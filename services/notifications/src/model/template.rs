//! A stored template version and its wire form.

use chrono::{DateTime, Utc};
use rapport_kit::domain::chrono_to_timestamp;
use rapport_proto::v1 as pb;

use super::names::channel_from_name;

/// A stored template version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Its name.
    pub name: String,
    /// Stored channel name.
    pub channel: String,
    /// Its locale.
    pub locale: String,
    /// 1 for the first put.
    pub version: u32,
    /// Email subject.
    pub subject: String,
    /// The text.
    pub body: String,
    /// The `data.*` names a send must provide, sorted.
    pub required_data: Vec<String>,
    /// Used when no locale matches.
    pub default_locale: bool,
    /// When this version was saved.
    pub updated_at: DateTime<Utc>,
}

impl Template {
    /// True when `other` has the same content (everything but version and time).
    pub fn same_content(&self, other: &Template) -> bool {
        (
            &self.subject,
            &self.body,
            &self.required_data,
            self.default_locale,
        ) == (
            &other.subject,
            &other.body,
            &other.required_data,
            other.default_locale,
        )
    }

    /// The wire form.
    pub fn into_proto(self) -> pb::Template {
        pb::Template {
            name: self.name,
            channel: channel_from_name(&self.channel) as i32,
            locale: self.locale,
            subject: self.subject,
            body: self.body,
            required_data: self.required_data,
            default_locale: self.default_locale,
            version: self.version,
            updated_at: Some(chrono_to_timestamp(self.updated_at)),
        }
    }
}
