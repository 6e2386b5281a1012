use rapport_kit::{ApiError, paging};
use rapport_proto::v1 as pb;
use uuid::Uuid;

use super::{
    Configured,
    destination::{email, phone, webhook_url},
    limits::{MAX_DATA_ENTRIES, MAX_DATA_VALUE, MAX_DESTINATION},
    list::page_token,
    names::locale,
    next_page_token, send_request,
};
use crate::repo::Cursor;

#[test]
fn webhook_urls_are_checked() {
    assert!(webhook_url("https://hooks.example.com/a?b=c").is_ok());
    assert!(webhook_url("http://127.0.0.1:8080/x").is_ok());
    assert_eq!(
        webhook_url("").unwrap_err(),
        "required: the http(s) URL to POST to"
    );
    for (url, message) in [
        ("ftp://example.com/", "scheme"),
        ("not a url", "whitespace"),
        ("example.com/hook", "not a URL"),
    ] {
        let e = webhook_url(url).unwrap_err();
        assert!(e.contains(message), "{url}: {e}");
    }
    assert!(webhook_url("http://").is_err());
    assert!(webhook_url("mailto:someone@example.com").is_err());
    let long = format!("https://example.com/{}", "a".repeat(MAX_DESTINATION));
    assert!(webhook_url(&long).unwrap_err().contains("at most 2048"));
}

#[test]
fn page_tokens_round_trip() {
    let cursor = Cursor {
        created_at: rapport_kit::domain::from_micros(1_700_000_000_123_456),
        id: Uuid::new_v4(),
    };
    assert_eq!(page_token(&next_page_token(cursor)), Ok(cursor));
    assert_eq!(page_token(""), Ok(Cursor::start()));
    assert!(page_token("zz").is_err());
    assert!(page_token(&paging::encode_token("12|not-a-uuid")).is_err());
}

#[test]
fn unconfigured_channels_are_refused() {
    let req = pb::SendNotificationRequest {
        dedupe_key: "k".into(),
        customer_id: Uuid::new_v4().to_string(),
        channel: pb::Channel::Email as i32,
        destination: "someone@example.com".into(),
        ..Default::default()
    };
    assert!(matches!(
        send_request(req.clone(), Configured::default()).map_err(ApiError::from),
        Err(ApiError::FailedPrecondition {
            reason: "CHANNEL_NOT_CONFIGURED",
            ..
        })
    ));
    let configured = Configured {
        email: true,
        ..Configured::default()
    };
    assert!(send_request(req, configured).is_ok());
}

#[test]
fn non_public_webhook_literals_are_refused_unless_allowed() {
    let req = |url: &str| pb::SendNotificationRequest {
        dedupe_key: "k".into(),
        channel: pb::Channel::Webhook as i32,
        destination: url.into(),
        ..Default::default()
    };
    let allowed = Configured {
        private_destinations: true,
        ..Configured::default()
    };
    for url in ["http://127.0.0.1:8080/x", "http://[::ffff:10.0.0.1]/"] {
        assert!(matches!(
            send_request(req(url), Configured::default()).map_err(ApiError::from),
            Err(ApiError::InvalidArgument(_))
        ));
        assert!(send_request(req(url), allowed).is_ok());
    }
    for url in [
        "https://8.8.8.8/h",
        "https://localhost/h",
        "https://hooks.example.com/h",
    ] {
        assert!(
            send_request(req(url), Configured::default()).is_ok(),
            "{url}"
        );
    }
}

#[test]
fn locales_and_phones_are_checked() {
    assert!(locale("de").is_ok() && locale("de-CH").is_ok() && locale("zh-Hant-TW").is_ok());
    assert!(locale("d").is_err() && locale("de_CH").is_err() && locale("").is_err());
    assert!(phone("+41791234567").is_ok());
    assert!(phone("0791234567").is_err() && phone("+41 79").is_err());
    assert!(email("a@b.ch").is_ok() && email("a@b").is_err() && email("<a@b.ch>").is_err());
}

#[test]
fn template_data_is_bounded_for_sends_and_previews() {
    let data = |n: usize| -> std::collections::HashMap<String, String> {
        (0..n).map(|i| (format!("f{i}"), "v".into())).collect()
    };
    let violations = |err: ApiError| match err {
        ApiError::InvalidArgument(errors) => errors.violations().to_vec(),
        other => panic!("{other:?}"),
    };
    let send = |n: usize| {
        send_request(
            pb::SendNotificationRequest {
                dedupe_key: "k".into(),
                customer_id: Uuid::new_v4().to_string(),
                channel: pb::Channel::Webhook as i32,
                destination: "https://example.com/hook".into(),
                template: "welcome".into(),
                data: data(n),
                ..Default::default()
            },
            Configured::default(),
        )
        .map_err(ApiError::from)
    };
    assert!(send(MAX_DATA_ENTRIES).is_ok());
    let refused = violations(send(MAX_DATA_ENTRIES + 1).unwrap_err());
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].0, "data");
    assert!(refused[0].1.contains("at most 200"), "{refused:?}");

    let preview = |data| pb::PreviewTemplateRequest {
        name: "welcome".into(),
        channel: pb::Channel::Email as i32,
        data,
        ..Default::default()
    };
    assert!(super::preview(&preview(data(MAX_DATA_ENTRIES))).is_ok());
    let refused = violations(
        super::preview(&preview(data(MAX_DATA_ENTRIES + 1)))
            .map_err(ApiError::from)
            .unwrap_err(),
    );
    assert_eq!(refused[0].0, "data");
    let long = [("f".to_owned(), "x".repeat(MAX_DATA_VALUE + 1))].into();
    let refused = violations(
        super::preview(&preview(long))
            .map_err(ApiError::from)
            .unwrap_err(),
    );
    assert_eq!(refused[0].0, "data.f");
}
