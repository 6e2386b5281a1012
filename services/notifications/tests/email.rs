//! Email against a real SMTP server (aiosmtpd): bodies rendered from the
//! profile and score, headers, AUTH, STARTTLS, and consent, on both backends.

mod support;

use chrono::Utc;
use rapport_kit::testing::smtp::{Options, SmtpServer};
use rapport_kit::{
    config::Secret,
    testing::{Backend, TestServer},
};
use rapport_notifications::config::{NotifyConfig, SmtpTls};
use rapport_proto::v1::{
    ApplyChangesRequest, ChangeEvent, Channel, Purpose, PutTemplateRequest,
    SendNotificationRequest, Template, TransactionChange, TransactionKind, change_event,
    scoring_service_client::ScoringServiceClient,
};
use support::{
    DELIVERED, SUPPRESSED, client, consent, customer, profiles, send, send_settled, server,
    settled, stop, stored, tenant_key, tls::self_signed, worker,
};

rapport_kit::backend_tests!(
    email_is_rendered_from_profile_and_score,
    consent_missing_or_revoked_sends_nothing,
);

fn smtp_config(c: &mut NotifyConfig, port: u16) {
    c.smtp.host = Some("127.0.0.1".into());
    c.smtp.port = port;
    c.smtp.tls = SmtpTls::None;
    c.smtp.from = "Rapport <news@rapport.test>".into();
    c.smtp.timeout_ms = 5_000;
    c.lease_ms = 30_000;
}

/// Two purchases this year, applied to scoring as the ingestion relay would.
async fn two_purchases(ts: &TestServer, tenant: uuid::Uuid, customer_id: &str) {
    let mut scoring = ScoringServiceClient::new(ts.channel());
    let changes = (0..2)
        .map(|i| ChangeEvent {
            id: format!("txn:{customer_id}:{i}"),
            customer_id: customer_id.to_owned(),
            change: Some(change_event::Change::Transaction(TransactionChange {
                kind: TransactionKind::Purchase as i32,
                occurred_at: Some(rapport_kit::domain::chrono_to_timestamp(
                    Utc::now() - chrono::Duration::minutes(10 + i),
                )),
                amount_minor: 4_950,
                currency_code: "EUR".into(),
                ..Default::default()
            })),
        })
        .collect();
    let req = ts
        .app
        .internal
        .request(tenant, None, ApplyChangesRequest { changes });
    scoring.apply_changes(req).await.expect("apply changes");
}

/// A customer called `name` at `address`, consenting to email only.
async fn emailable(people: &mut support::Profiles, name: &str, address: &str) -> String {
    customer(people, name, address, "", &[], &[Channel::Email]).await
}

fn email_to(dedupe_key: &str, customer_id: &str) -> SendNotificationRequest {
    SendNotificationRequest {
        dedupe_key: dedupe_key.into(),
        customer_id: customer_id.into(),
        channel: Channel::Email as i32,
        subject: "Hello".into(),
        body: "Plain text".into(),
        purpose: Purpose::Transactional as i32,
        ..Default::default()
    }
}

async fn email_is_rendered_from_profile_and_score(backend: Backend) {
    let smtp = SmtpServer::start(Options {
        login: Some(("rapport".into(), "s3cret".into())),
        ..Options::default()
    })
    .await;
    let ts = server(backend, |c| {
        smtp_config(c, smtp.port);
        c.smtp.username = Some("rapport".into());
        c.smtp.password = Some(Secret::new("s3cret"));
    })
    .await;
    let (tenant, key) = ts.tenant("acme", "EUR").await;
    let (mut notify, mut people) = (client(&ts, &key), profiles(&ts, &key));
    let ada = customer(
        &mut people,
        "Ada Lovelace",
        "ada@example.com",
        "",
        &[("region", "Zurich")],
        &[Channel::Email],
    )
    .await;
    two_purchases(&ts, tenant.id, &ada).await;
    let template = Template {
        name: "receipt".into(),
        channel: Channel::Email as i32,
        locale: "en".into(),
        subject: "Thanks {{ customer.first_name }}, order {{ data.order_number }}".into(),
        body: "Hello {{ customer.display_name }} in \
               {{ customer.attributes.region | default: \"your town\" }}: you bought \
               {{ score.purchases_this_year }} pairs from us this year \
               ({{ score.spend_this_year }})."
            .into(),
        required_data: vec!["order_number".into()],
        default_locale: true,
        ..Default::default()
    };
    notify
        .put_template(PutTemplateRequest {
            template: Some(template),
        })
        .await
        .expect("put template");
    let workers = vec![worker(&ts)];

    let mut req = email_to("receipt-1", &ada);
    req.subject.clear();
    req.body.clear();
    req.template = "receipt".into();
    req.locale = "en-GB".into();
    req.data.insert("order_number".into(), "A-1001".into());
    let (id, n) = send_settled(&mut notify, req).await;
    assert_eq!(n.status, DELIVERED, "{n:?}");
    assert_eq!(n.destination, "ada@example.com", "the profile's address");
    assert_eq!((n.template.as_str(), n.locale.as_str()), ("receipt", "en"));
    assert_eq!(n.template_version, 1);

    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.mail_from, "news@rapport.test");
    assert_eq!(mail.rcpt_tos, ["ada@example.com"]);
    assert_eq!(mail.login.as_deref(), Some("rapport"), "AUTH was used");
    assert_eq!(mail.headers["subject"], "Thanks Ada, order A-1001");
    assert_eq!(
        mail.headers["message-id"],
        format!("<{id}@rapport.notifications>")
    );
    assert_eq!(
        mail.body.trim_end(),
        "Hello Ada Lovelace in Zurich: you bought 2 pairs from us this year (99.00 EUR)."
    );
    assert!(
        n.provider_message_id.contains(&mail.queue_id),
        "the server's answer is kept: {}",
        n.provider_message_id
    );
    assert_eq!(n.attempts.len(), 1);
    stop(ts, workers).await;
}

async fn consent_missing_or_revoked_sends_nothing(backend: Backend) {
    let smtp = SmtpServer::start(Options::default()).await;
    let ts = server(backend, |c| smtp_config(c, smtp.port)).await;
    let key = tenant_key(&ts, "acme").await;
    let (mut notify, mut people) = (client(&ts, &key), profiles(&ts, &key));
    let never = customer(&mut people, "Never", "never@example.com", "", &[], &[]).await;
    let revoked = emailable(&mut people, "Gone", "gone@example.com").await;
    consent(&mut people, &revoked, Channel::Email, false).await;
    let sms_only = customer(
        &mut people,
        "Sms",
        "sms@example.com",
        "+41790000000",
        &[],
        &[Channel::Sms],
    )
    .await;
    let no_address = customer(&mut people, "Nobody", "", "", &[], &[Channel::Email]).await;
    let missing = uuid::Uuid::new_v4().to_string();
    let cases = [
        (&never, "NO_CONSENT"),
        (&revoked, "CONSENT_REVOKED"),
        (&sms_only, "NO_CONSENT"),
        (&no_address, "NO_DESTINATION"),
        (&missing, "CUSTOMER_NOT_FOUND"),
    ];
    for (i, (who, reason)) in cases.iter().enumerate() {
        let resp = notify
            .send_notification(email_to(&format!("k{i}"), who))
            .await
            .expect("suppressed is still OK")
            .into_inner();
        let n = resp.notification.unwrap();
        assert_eq!(
            (n.status, n.suppressed_reason.as_str()),
            (SUPPRESSED, *reason)
        );
        assert!(n.next_attempt_at.is_none());
    }

    // A consenting customer's consent does not carry to another address.
    let consenting = emailable(&mut people, "Own", "own@example.com").await;
    let mut elsewhere = email_to("elsewhere", &consenting);
    elsewhere.destination = "someone.else@example.com".into();
    let n = stored(&mut notify, elsewhere).await;
    assert_eq!(
        (n.status, n.suppressed_reason.as_str()),
        (SUPPRESSED, "DESTINATION_NOT_CUSTOMER")
    );
    let mut own = email_to("own", &consenting);
    own.destination = "OWN@example.com".into();
    let n = stored(&mut notify, own).await;
    assert_ne!(
        n.status, SUPPRESSED,
        "the profile's own address, in any case"
    );

    // Consent withdrawn after acceptance: checked again before sending.
    let later = emailable(&mut people, "Later", "later@example.com").await;
    let id = send(&mut notify, email_to("later", &later)).await;
    consent(&mut people, &later, Channel::Email, false).await;
    let workers = vec![worker(&ts)];
    let n = settled(&mut notify, &id).await;
    assert_eq!(
        (n.status, n.suppressed_reason.as_str()),
        (SUPPRESSED, "CONSENT_REVOKED")
    );

    // Someone who consents gets theirs, through the same worker.
    let yes = emailable(&mut people, "Yes", "yes@example.com").await;
    let id = send(&mut notify, email_to("yes", &yes)).await;
    assert_eq!(settled(&mut notify, &id).await.status, DELIVERED);
    stop(ts, workers).await;
    let mut got: Vec<String> = smtp.mails().into_iter().flat_map(|m| m.rcpt_tos).collect();
    got.sort();
    assert_eq!(
        got,
        ["OWN@example.com", "yes@example.com"],
        "only consenting customers, at their own addresses, got mail"
    );
}

/// STARTTLS against a relay with a certificate from a private CA (made with
/// the openssl command); the relay refuses mail before STARTTLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_with_a_private_ca() {
    let (cert, key_file) = self_signed();
    let smtp = SmtpServer::start(Options {
        login: Some(("rapport".into(), "s3cret".into())),
        tls: Some((cert.clone(), key_file)),
        require_tls: true,
    })
    .await;
    let ts = server(Backend::Postgres, |c| {
        smtp_config(c, smtp.port);
        c.smtp.host = Some("localhost".into());
        c.smtp.tls = SmtpTls::RequiredStarttls;
        c.smtp.ca_file = Some(cert);
        c.smtp.username = Some("rapport".into());
        c.smtp.password = Some(Secret::new("s3cret"));
    })
    .await;
    let key = tenant_key(&ts, "acme").await;
    let (mut notify, mut people) = (client(&ts, &key), profiles(&ts, &key));
    let who = emailable(&mut people, "Tls", "tls@example.com").await;
    let workers = vec![worker(&ts)];
    let (_, n) = send_settled(&mut notify, email_to("tls", &who)).await;
    assert_eq!(n.status, DELIVERED, "{n:?}");
    stop(ts, workers).await;
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].tls, "the session was upgraded with STARTTLS");
    assert_eq!(mails[0].login.as_deref(), Some("rapport"));
}
