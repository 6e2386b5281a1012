//! Channels as a person types and reads them: `email`, `sms`, `webhook`.

use rapport_proto::v1::Channel;

/// The channel named `name`.
pub fn parse(name: &str) -> anyhow::Result<Channel> {
    match name {
        "email" => Ok(Channel::Email),
        "sms" => Ok(Channel::Sms),
        "webhook" => Ok(Channel::Webhook),
        other => anyhow::bail!("channel: {other:?} is not email, sms or webhook"),
    }
}

/// The name of a channel as the API sends it (`?` for one unknown).
pub fn name(value: i32) -> &'static str {
    match Channel::try_from(value) {
        Ok(Channel::Email) => "email",
        Ok(Channel::Sms) => "sms",
        Ok(Channel::Webhook) => "webhook",
        _ => "?",
    }
}
