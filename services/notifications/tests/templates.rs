//! Templates: save-time validation with positions, versions and idempotent
//! puts, locale fallback, preview, data checks at send, and tenant
//! isolation, on both backends.

mod support;

use rapport_kit::testing::{Backend, ok};
use rapport_proto::v1::{
    Channel, DeleteTemplateRequest, GetTemplateRequest, ListNotificationsRequest,
    ListTemplatesRequest, NotificationStatus, PreviewTemplateRequest, Purpose, PutTemplateRequest,
    SendNotificationRequest, Template,
};
use support::{
    Client, bad_fields, client, customer, profiles, server, stored, tenant_key, violations,
};
use tonic::Code;

rapport_kit::backend_tests!(
    bad_templates_are_refused_when_saved,
    puts_version_and_repeat_idempotently,
    locale_falls_back_to_language_then_default,
    sends_need_the_required_data,
    templates_are_isolated_per_tenant,
    rendered_messages_keep_to_the_message_limits,
);

fn sms_template(name: &str, locale: &str, body: &str, default_locale: bool) -> Template {
    Template {
        name: name.into(),
        channel: Channel::Webhook as i32,
        locale: locale.into(),
        body: body.into(),
        default_locale,
        ..Default::default()
    }
}

async fn put(client: &mut Client, t: Template) -> Result<(Template, bool), tonic::Status> {
    client
        .put_template(PutTemplateRequest { template: Some(t) })
        .await
        .map(|r| {
            let r = r.into_inner();
            (r.template.unwrap(), r.created)
        })
}

/// The key of the "welcome" webhook template in English.
fn welcome_key() -> GetTemplateRequest {
    GetTemplateRequest {
        name: "welcome".into(),
        channel: Channel::Webhook as i32,
        locale: "en".into(),
    }
}

async fn preview(
    client: &mut Client,
    name: &str,
    locale: &str,
    customer_id: &str,
) -> Result<(String, Template), tonic::Status> {
    client
        .preview_template(PreviewTemplateRequest {
            name: name.into(),
            channel: Channel::Webhook as i32,
            locale: locale.into(),
            customer_id: customer_id.into(),
            data: Default::default(),
        })
        .await
        .map(|r| {
            let r = r.into_inner();
            (r.body, r.template.unwrap())
        })
}

async fn bad_templates_are_refused_when_saved(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut c = client(&ts, &tenant_key(&ts, "acme").await);
    let cases = [
        (
            "Hi\n{{ customer.shoe_size }}",
            "unknown field customer.shoe_size at line 2, column 1",
        ),
        (
            "Hi {{ customer.first_name ",
            "unclosed tag at line 1, column 4",
        ),
        ("{{ customer.email | shout }}", "unknown filter"),
        ("{{ customer.attributes.region }}", "needs a default"),
        (
            "Order {{ data.order_number }}",
            "data.order_number is not listed",
        ),
    ];
    for (body, reason) in cases {
        let err = put(&mut c, sms_template("t", "en", body, true))
            .await
            .unwrap_err();
        let v = violations(&err);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].0, "template.body");
        assert!(v[0].1.contains(reason), "{body:?}: {}", v[0].1);
    }
    let mut email = sms_template("t", "en", "ok", true);
    email.channel = Channel::Email as i32;
    email.subject = "{{ score.nope }}".into();
    let v = violations(&put(&mut c, email).await.unwrap_err());
    assert_eq!(v[0].0, "template.subject");
    assert!(
        v[0].1
            .contains("unknown field score.nope at line 1, column 1")
    );
    let mut bad = sms_template("bad name!", "english", "", false);
    bad.channel = 0;
    bad.required_data = vec!["1x".into()];
    let fields = bad_fields(&put(&mut c, bad).await.unwrap_err());
    assert_eq!(
        fields,
        [
            "template.name",
            "template.channel",
            "template.locale",
            "template.required_data[0]",
            "template.body"
        ]
    );
    let listed = ok(c.list_templates(ListTemplatesRequest::default())).await;
    assert!(listed.templates.is_empty(), "nothing was saved");
    ts.stop().await;
}

async fn puts_version_and_repeat_idempotently(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut c = client(&ts, &tenant_key(&ts, "acme").await);
    let t = sms_template("welcome", "en", "Hi {{ customer.first_name }}", true);
    let (v1, created) = put(&mut c, t.clone()).await.unwrap();
    assert!(created);
    assert_eq!(v1.version, 1);
    let (again, created) = put(&mut c, t.clone()).await.unwrap();
    assert!(!created, "same content changes nothing");
    assert_eq!(again, v1);
    let mut changed = t.clone();
    changed.body = "Hello {{ customer.first_name }}".into();
    let (v2, created) = put(&mut c, changed).await.unwrap();
    assert!(created);
    assert_eq!(v2.version, 2);
    let got = ok(c.get_template(welcome_key())).await.template.unwrap();
    assert_eq!(got, v2);
    for i in 0..3 {
        put(&mut c, sms_template(&format!("z{i}"), "en", "x", false))
            .await
            .unwrap();
    }
    let page = ok(c.list_templates(ListTemplatesRequest {
        page_size: 2,
        page_token: String::new(),
    }))
    .await;
    let names: Vec<_> = page.templates.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["welcome", "z0"]);
    let rest = ok(c.list_templates(ListTemplatesRequest {
        page_size: 2,
        page_token: page.next_page_token,
    }))
    .await;
    let names: Vec<_> = rest.templates.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["z1", "z2"]);
    assert_eq!(rest.next_page_token, "");
    let delete = DeleteTemplateRequest {
        name: "welcome".into(),
        channel: Channel::Webhook as i32,
        locale: "en".into(),
    };
    assert!(ok(c.delete_template(delete.clone())).await.deleted);
    assert!(!ok(c.delete_template(delete)).await.deleted, "idempotent");
    let gone = c.get_template(welcome_key()).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    ts.stop().await;
}

async fn locale_falls_back_to_language_then_default(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let key = tenant_key(&ts, "acme").await;
    let (mut c, mut people) = (client(&ts, &key), profiles(&ts, &key));
    let in_bern = [("region", "Bern")];
    let ada = customer(&mut people, "Ada Lovelace", "", "", &in_bern, &[]).await;
    let region = "{{ customer.attributes.region | default: \"there\" }}";
    put(
        &mut c,
        sms_template(
            "hi",
            "en",
            &format!("Hi {{{{ customer.first_name }}}} in {region}"),
            true,
        ),
    )
    .await
    .unwrap();
    put(
        &mut c,
        sms_template(
            "hi",
            "de",
            &format!("Hallo {{{{ customer.first_name | upper }}}} in {region}"),
            false,
        ),
    )
    .await
    .unwrap();
    put(
        &mut c,
        sms_template("hi", "de-CH", "Grüezi {{ customer.display_name }}", false),
    )
    .await
    .unwrap();

    let cases = [
        ("de-CH", "de-CH", "Grüezi Ada Lovelace"),
        ("de-AT", "de", "Hallo ADA in Bern"),
        ("fr-FR", "en", "Hi Ada in Bern"),
        ("", "en", "Hi Ada in Bern"),
    ];
    for (asked, used, text) in cases {
        let (body, t) = preview(&mut c, "hi", asked, &ada).await.unwrap();
        assert_eq!((t.locale.as_str(), body.as_str()), (used, text), "{asked}");
    }
    // Without a customer, profile fields are empty and defaults apply.
    let (body, _) = preview(&mut c, "hi", "en", "").await.unwrap();
    assert_eq!(body, "Hi  in there");
    let missing = preview(&mut c, "nope", "en", "").await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    ts.stop().await;
}

async fn sends_need_the_required_data(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let key = tenant_key(&ts, "acme").await;
    let mut c = client(&ts, &key);
    let mut t = sms_template(
        "order",
        "en",
        "Order {{ data.order_number }} at {{ data.time }}",
        true,
    );
    t.required_data = vec!["order_number".into(), "time".into()];
    put(&mut c, t).await.unwrap();
    let mut req = SendNotificationRequest {
        dedupe_key: "o-1".into(),
        channel: Channel::Webhook as i32,
        destination: "http://hooks.example.com/x".into(),
        template: "order".into(),
        purpose: Purpose::Transactional as i32,
        ..Default::default()
    };
    req.data.insert("order_number".into(), "A-7".into());
    let err = c.send_notification(req.clone()).await.unwrap_err();
    let fields = bad_fields(&err);
    assert_eq!(fields, ["data.time"]);
    req.data.insert("time".into(), "10:00".into());
    let n = stored(&mut c, req).await;
    assert_eq!(n.body, "Order A-7 at 10:00");
    assert_eq!((n.template.as_str(), n.template_version), ("order", 1));
    assert_eq!(n.status, NotificationStatus::Pending as i32);
    ts.stop().await;
}

async fn templates_are_isolated_per_tenant(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut a = client(&ts, &tenant_key(&ts, "acme").await);
    let mut b = client(&ts, &tenant_key(&ts, "globex").await);
    put(&mut a, sms_template("secret", "en", "A's text", true))
        .await
        .unwrap();
    let get = GetTemplateRequest {
        name: "secret".into(),
        channel: Channel::Webhook as i32,
        locale: "en".into(),
    };
    assert_eq!(
        b.get_template(get.clone()).await.unwrap_err().code(),
        Code::NotFound
    );
    let listed = ok(b.list_templates(ListTemplatesRequest::default())).await;
    assert!(listed.templates.is_empty());
    assert_eq!(
        preview(&mut b, "secret", "en", "")
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let delete = DeleteTemplateRequest {
        name: "secret".into(),
        channel: Channel::Webhook as i32,
        locale: "en".into(),
    };
    assert!(!ok(b.delete_template(delete)).await.deleted);
    // B's own template of the same name is version 1 and leaves A's alone.
    let (bt, _) = put(&mut b, sms_template("secret", "en", "B's text", true))
        .await
        .unwrap();
    assert_eq!(bt.version, 1);
    let at = ok(a.get_template(get)).await.template.unwrap();
    assert_eq!((at.body.as_str(), at.version), ("A's text", 1));
    ts.stop().await;
}

/// A template within the size limit whose data would make a message far over
/// it (64 KiB of tags, each filled with 1 KiB, used to render about 6 MB that
/// was stored and sent): refused naming `data`, on send and on preview, and
/// nothing is stored; the same template with short data is sent.
async fn rendered_messages_keep_to_the_message_limits(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let key = tenant_key(&ts, "acme").await;
    let mut c = client(&ts, &key);
    let tag = "{{ data.x }}";
    let body = tag.repeat(64 * 1024 / tag.len());
    let mut t = sms_template("wide", "en", &body, true);
    t.required_data = vec!["x".into()];
    put(&mut c, t).await.unwrap();
    let send = |x: &str| {
        let mut req = SendNotificationRequest {
            dedupe_key: format!("wide-{}", x.len()),
            channel: Channel::Webhook as i32,
            destination: "http://hooks.example.com/x".into(),
            template: "wide".into(),
            purpose: Purpose::Transactional as i32,
            ..Default::default()
        };
        req.data.insert("x".into(), x.into());
        req
    };
    let long = "v".repeat(1024);
    let refused = c.send_notification(send(&long)).await.unwrap_err();
    let said = violations(&refused);
    assert_eq!(said.len(), 1, "{said:?}");
    assert_eq!(said[0].0, "data");
    assert!(said[0].1.contains("65536 bytes"), "{said:?}");
    let mut previewed = PreviewTemplateRequest {
        name: "wide".into(),
        channel: Channel::Webhook as i32,
        locale: "en".into(),
        ..Default::default()
    };
    previewed.data.insert("x".into(), long.clone());
    let refused = c.preview_template(previewed).await.unwrap_err();
    assert_eq!(bad_fields(&refused), ["data"]);

    let n = stored(&mut c, send("v")).await;
    assert_eq!(n.body, "v".repeat(64 * 1024 / tag.len()));
    let listed = ok(c.list_notifications(ListNotificationsRequest::default())).await;
    assert_eq!(
        listed.notifications.len(),
        1,
        "the refused send stored nothing"
    );
    ts.stop().await;
}
