//! Shared test parts: a server with profiles, scoring and notifications,
//! typed clients, workers, and the kit's real local HTTP(S) receiver.
#![allow(dead_code)]

// Not every test binary uses the receiver.
#[allow(unused_imports)]
pub use rapport_kit::testing::{Received, Receiver, bad_fields, tls, violations};

use std::time::Duration;

use rapport_kit::{
    Db,
    internal::BearerAuth,
    peers::PeerClients,
    shutdown::Shutdown,
    testing::{Backend, TestServer},
};
use rapport_notifications::{
    Peers, SCHEMA, add_to, config::NotifyConfig, connect_peers, spawn_worker,
};
use rapport_proto::v1::{
    Channel, Consent, CreateCustomerRequest, Customer, GetNotificationRequest, Notification,
    NotificationStatus, RotateWebhookSecretRequest, SendNotificationRequest, SetConsentRequest,
    notifications_service_client::NotificationsServiceClient,
    profiles_service_client::ProfilesServiceClient,
};
use tokio::task::JoinHandle;
use tonic::{service::interceptor::InterceptedService, transport};

/// A client authenticated as one tenant.
pub type Client = NotificationsServiceClient<InterceptedService<transport::Channel, BearerAuth>>;

/// A profiles client authenticated as one tenant.
pub type Profiles = ProfilesServiceClient<InterceptedService<transport::Channel, BearerAuth>>;

/// Clients of profiles and scoring inside the server at `url`.
pub fn peers(url: &str, app: &rapport_kit::app::App) -> Peers {
    let clients = PeerClients::new(&app.config).or_at(url);
    connect_peers(&clients, &app.internal).expect("peer clients")
}

/// Starts one server with profiles, scoring and notifications on `backend`
/// (notifications calls the other two through its own port, as in the
/// all-in-one binary), after `tweak` has adjusted the test configuration.
pub async fn server(backend: Backend, tweak: impl FnOnce(&mut NotifyConfig)) -> TestServer {
    server_with(rapport_kit::testing::config(backend).await, tweak).await
}

/// As [`server`], on `config`.
pub async fn server_with(
    mut config: rapport_kit::config::Config,
    tweak: impl FnOnce(&mut NotifyConfig),
) -> TestServer {
    config.update_section(tweak);
    let cache = rapport_scoring::cache_from_config(&config)
        .await
        .expect("cache");
    TestServer::start(config, move |app, server, addr| {
        let url = format!("http://{addr}");
        rapport_profiles::add_to(server, app.db(rapport_profiles::SCHEMA)?);
        let own = PeerClients::new(&app.config).or_at(&url);
        rapport_scoring::add_to(
            server,
            app,
            app.db(rapport_scoring::SCHEMA)?,
            cache,
            own.profiles()?,
            own.notifications()?,
        );
        add_to(
            server,
            app.db(SCHEMA)?,
            &app.config.section().expect("notify settings"),
            peers(&url, app),
        );
        Ok(())
    })
    .await
}

/// The API key of a new tenant named `name`, set up as tenants are before
/// they send webhooks: with a signing secret.
pub async fn tenant_key(ts: &TestServer, name: &str) -> String {
    let key = ts.tenant(name, "EUR").await.1;
    rotate(&mut client(ts, &key)).await;
    key
}

/// Rotates the caller's webhook signing secret; the new secret.
pub async fn rotate(client: &mut Client) -> String {
    client
        .rotate_webhook_secret(RotateWebhookSecretRequest {})
        .await
        .expect("rotate the webhook signing secret")
        .into_inner()
        .secret
}

/// A notifications client for `key`.
pub fn client(ts: &TestServer, key: &str) -> Client {
    NotificationsServiceClient::with_interceptor(ts.channel(), BearerAuth::new(key).expect("key"))
}

/// A profiles client for `key`.
pub fn profiles(ts: &TestServer, key: &str) -> Profiles {
    ProfilesServiceClient::with_interceptor(ts.channel(), BearerAuth::new(key).expect("key"))
}

/// A client for a new tenant named `name`.
pub async fn tenant(ts: &TestServer, name: &str) -> Client {
    client(ts, &tenant_key(ts, name).await)
}

/// Creates a customer with `email`, `phone` and `attributes`, consenting to
/// `channels`; returns its id.
pub async fn customer(
    profiles: &mut Profiles,
    name: &str,
    email: &str,
    phone: &str,
    attributes: &[(&str, &str)],
    channels: &[Channel],
) -> String {
    let customer = Customer {
        display_name: name.to_owned(),
        email: email.to_owned(),
        phone: phone.to_owned(),
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    let id = profiles
        .create_customer(CreateCustomerRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            customer: Some(customer),
        })
        .await
        .expect("create customer")
        .into_inner()
        .customer
        .expect("customer")
        .id;
    for channel in channels {
        consent(profiles, &id, *channel, true).await;
    }
    id
}

/// Grants or revokes consent on `channel`.
pub async fn consent(
    profiles: &mut Profiles,
    id: &str,
    channel: Channel,
    granted: bool,
) -> Consent {
    profiles
        .set_consent(SetConsentRequest {
            customer_id: id.to_owned(),
            channel: channel as i32,
            granted,
            at: None,
        })
        .await
        .expect("set consent")
        .into_inner()
        .consent
        .expect("consent")
}

/// A delivery worker with its own pool, stopped by the server's shutdown.
pub fn worker(ts: &TestServer) -> JoinHandle<()> {
    worker_with(ts, peers(&ts.url(), &ts.app), ts.app.shutdown.clone())
}

/// A delivery worker for `ts` calling `peers`, stopped by `shutdown`.
pub fn worker_with(ts: &TestServer, peers: Peers, shutdown: Shutdown) -> JoinHandle<()> {
    let db = Db::connect_lazy(&ts.config, SCHEMA).expect("worker pool");
    spawn_worker(
        db,
        ts.config.section::<NotifyConfig>().unwrap(),
        peers,
        shutdown,
    )
    .expect("delivery settings")
}

/// The notifications store of `ts`, migrated, for a test to look at or
/// change what the service keeps.
pub async fn store(ts: &TestServer) -> Db {
    let db = Db::connect_lazy(&ts.config, SCHEMA).expect("store pool");
    db.migrate(SCHEMA, &rapport_notifications::MIGRATIONS)
        .await
        .expect("migrated store");
    db
}

/// Runs `postgres` or `sqlite` (statements without parameters) on `db`.
pub async fn run_sql(db: &Db, postgres: &str, sqlite: &str) {
    match db {
        Db::Postgres(pool) => sqlx::raw_sql(postgres).execute(pool).await.map(|_| ()),
        Db::Sqlite(pool) => sqlx::raw_sql(sqlite).execute(pool).await.map(|_| ()),
    }
    .expect("test sql");
}

/// The text values the single-column `query` selects on `db`.
pub async fn texts(db: &Db, query: &str) -> Vec<String> {
    match db {
        Db::Postgres(pool) => sqlx::query_scalar(query).fetch_all(pool).await,
        Db::Sqlite(pool) => sqlx::query_scalar(query).fetch_all(pool).await,
    }
    .expect("test query")
}

/// Tolerance a receiver allows between the signature's time and its clock.
pub const TOLERANCE_SECS: i64 = 300;

/// What a receiver does: recompute `v1` over "<t>.<body>" with the secret,
/// compare each `v1` of the header in constant time (during a rotation's
/// overlap there are two), and refuse stale timestamps.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), &'static str> {
    use hmac::Mac;
    let mut t = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let t = t.ok_or("no timestamp")?;
    if signatures.is_empty() {
        return Err("no signature");
    }
    if (now - t).abs() > TOLERANCE_SECS {
        return Err("stale timestamp");
    }
    let matches = |v1: &Vec<u8>| {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        mac.verify_slice(v1).is_ok()
    };
    if signatures.iter().any(matches) {
        Ok(())
    } else {
        Err("bad signature")
    }
}

/// Stops the server and its workers, checking every worker ends.
pub async fn stop(ts: TestServer, workers: Vec<JoinHandle<()>>) {
    ts.stop().await;
    for w in workers {
        tokio::time::timeout(Duration::from_secs(30), w)
            .await
            .expect("worker stops after shutdown")
            .expect("worker did not panic");
    }
}

/// A webhook send request.
pub fn webhook(dedupe_key: &str, customer_id: &str, url: &str) -> SendNotificationRequest {
    SendNotificationRequest {
        dedupe_key: dedupe_key.to_owned(),
        customer_id: customer_id.to_owned(),
        channel: Channel::Webhook as i32,
        destination: url.to_owned(),
        subject: "Your tier changed".to_owned(),
        body: "{\"tier\":\"gold\"}".to_owned(),
        ..Default::default()
    }
}

/// Notification statuses as the wire carries them.
pub const PENDING: i32 = NotificationStatus::Pending as i32;
/// See [`PENDING`].
pub const SCHEDULED: i32 = NotificationStatus::Scheduled as i32;
/// See [`PENDING`].
pub const DELIVERED: i32 = NotificationStatus::Delivered as i32;
/// See [`PENDING`].
pub const DEAD_LETTER: i32 = NotificationStatus::DeadLetter as i32;
/// See [`PENDING`].
pub const SUPPRESSED: i32 = NotificationStatus::Suppressed as i32;

/// Sends `req` and returns the stored notification.
pub async fn stored(client: &mut Client, req: SendNotificationRequest) -> Notification {
    let resp = client
        .send_notification(req)
        .await
        .expect("send")
        .into_inner();
    resp.notification.expect("notification")
}

/// Sends `req` and returns the stored notification's id.
pub async fn send(client: &mut Client, req: SendNotificationRequest) -> String {
    stored(client, req).await.id
}

/// Sends `req` and waits until it settled: its id and the settled notification.
pub async fn send_settled(
    client: &mut Client,
    req: SendNotificationRequest,
) -> (String, Notification) {
    let id = send(client, req).await;
    let n = settled(client, &id).await;
    (id, n)
}

/// The notification as stored now, with its attempts.
pub async fn get(client: &mut Client, id: &str) -> Notification {
    client
        .get_notification(GetNotificationRequest {
            notification_id: id.to_owned(),
        })
        .await
        .expect("get")
        .into_inner()
        .notification
        .expect("notification")
}

/// Waits (without asserting on time) until the notification is neither
/// pending nor scheduled and returns it with its attempts.
pub async fn settled(client: &mut Client, id: &str) -> Notification {
    for _ in 0..1_200 {
        let n = get(client, id).await;
        if n.status != PENDING && n.status != SCHEDULED {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("notification {id} stayed pending");
}
