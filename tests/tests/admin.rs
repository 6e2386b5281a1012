//! The operator's `AdminService`: only the admin token calls it, and it
//! calls nothing else; tenants are created, listed, shown, renamed,
//! disabled and enabled, each change in the tenant's audit trail; a
//! disabled tenant's key is refused by another server sharing the database
//! within a second, another tenant's is not, and enabling restores it; the
//! calls work as JSON over HTTP and from `rapport tenant`.

use std::time::{Duration, Instant};

use rapport_kit::{
    backend_tests,
    config::{Config, Secret},
    internal::{BearerAuth, InternalCredentials},
    testing::{self, Backend, TestServer, bad_fields, ok, reason},
};
use rapport_proto::v1::{
    CreateTenantRequest, DisableTenantRequest, EnableTenantRequest, GetTenantRequest,
    ListApiKeysRequest, ListAuditEventsRequest, ListTenantsRequest, RenameTenantRequest,
    admin_service_client::AdminServiceClient, tenants_service_client::TenantsServiceClient,
};
use rapport_tests::http::curl;
use tonic::{Code, service::interceptor::InterceptedService, transport::Channel};

const ADMIN: &str = "admin-token-0123456789abcdef0123456789";

type Admin = AdminServiceClient<InterceptedService<Channel, BearerAuth>>;
type Keys = TenantsServiceClient<InterceptedService<Channel, BearerAuth>>;

async fn config(backend: Backend) -> Config {
    let mut config = testing::config(backend).await;
    config.admin_token = Some(Secret::new(ADMIN));
    config
}

/// A server with only what every server serves (the tenants' keys and
/// AdminService).
async fn server(config: Config) -> TestServer {
    TestServer::start(config, |_, _, _| Ok(())).await
}

fn admin(ts: &TestServer, token: &str) -> Admin {
    AdminServiceClient::with_interceptor(ts.channel(), BearerAuth::new(token).unwrap())
}

fn keys(ts: &TestServer, key: &str) -> Keys {
    TenantsServiceClient::with_interceptor(ts.channel(), BearerAuth::new(key).unwrap())
}

fn list(page_size: i32, page_token: &str) -> ListTenantsRequest {
    ListTenantsRequest {
        page_size,
        page_token: page_token.into(),
    }
}

async fn key_code(client: &mut Keys) -> Code {
    let request = ListApiKeysRequest {
        page_size: 1,
        page_token: String::new(),
    };
    match client.list_api_keys(request).await {
        Ok(_) => Code::Ok,
        Err(s) => s.code(),
    }
}

/// Waits up to `within` for `client`'s key to answer `code`; how long it
/// took, or `None` if it never did.
async fn until_key(client: &mut Keys, code: Code, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < within {
        if key_code(client).await == code {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

async fn only_the_admin_token_calls_admin_service(backend: Backend) {
    let config = config(backend).await;
    let ts = server(config.clone()).await;
    let (tenant, key) = ts.tenant("acme", "EUR").await;

    let mut with_token = admin(&ts, ADMIN);
    let listed = ok(with_token.list_tenants(list(10, ""))).await;
    assert_eq!(listed.tenants.len(), 1);
    assert_eq!(listed.tenants[0].id, tenant.id.to_string());

    // A tenant's key, a service's credential: known, but not the operator.
    let err = admin(&ts, &key)
        .list_tenants(list(10, ""))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(err.message().contains("admin token"), "{err:?}");
    let internal = InternalCredentials::new(config.internal_token.clone().unwrap());
    let request = internal.request(tenant.id, None, list(10, ""));
    let err = AdminServiceClient::new(ts.channel())
        .list_tenants(request)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    // Anything else is no credential at all.
    let err = admin(&ts, "not-the-admin-token-0123456789abcdef")
        .list_tenants(list(10, ""))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let err = AdminServiceClient::new(ts.channel())
        .list_tenants(list(10, ""))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");

    // The admin token names no tenant: it calls nothing but AdminService.
    assert_eq!(
        key_code(&mut keys(&ts, ADMIN)).await,
        Code::PermissionDenied
    );
    assert_eq!(key_code(&mut keys(&ts, &key)).await, Code::Ok);
    ts.stop().await;

    // Without an admin token configured, AdminService is off, and says so.
    let mut off = config;
    off.admin_token = None;
    let ts = server(off).await;
    let err = admin(&ts, ADMIN)
        .list_tenants(list(10, ""))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(err.message().contains("RAPPORT_ADMIN_TOKEN"), "{err:?}");
    ts.stop().await;
}

async fn operators_manage_tenants(backend: Backend) {
    let ts = server(config(backend).await).await;
    let mut admin = admin(&ts, ADMIN);
    let create = |request_id: &str, name: &str| CreateTenantRequest {
        request_id: request_id.into(),
        name: name.into(),
        currency_code: "USD".into(),
    };

    // Created once per request id; the key is shown once.
    let made = ok(admin.create_tenant(create("onboard-1", "acme"))).await;
    assert!(made.created && made.api_key.starts_with("rpk_"), "{made:?}");
    let acme = made.tenant.unwrap();
    assert_eq!((acme.currency_code.as_str(), acme.active_keys), ("USD", 1));
    let again = ok(admin.create_tenant(create("onboard-1", "acme"))).await;
    assert!(!again.created && again.api_key.is_empty(), "{again:?}");
    assert_eq!(again.tenant.unwrap().id, acme.id);
    let err = admin
        .create_tenant(create("onboard-2", "acme"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
    assert_eq!(reason(&err), "TENANT_EXISTS");
    let globex = ok(admin.create_tenant(create("onboard-3", "globex")))
        .await
        .tenant
        .unwrap();
    let key = made.api_key;

    // Listed oldest first, a page at a time.
    let first = ok(admin.list_tenants(list(1, ""))).await;
    assert_eq!(first.tenants[0].id, acme.id);
    assert!(!first.next_page_token.is_empty());
    let second = ok(admin.list_tenants(list(1, &first.next_page_token))).await;
    assert_eq!(second.tenants[0].id, globex.id);
    assert!(second.next_page_token.is_empty(), "{second:?}");

    // Shown by id or by name.
    let by_name = GetTenantRequest {
        tenant_id: String::new(),
        name: "acme".into(),
    };
    let shown = ok(admin.get_tenant(by_name)).await.tenant.unwrap();
    assert_eq!(shown, acme);
    let by_id = |id: &str| GetTenantRequest {
        tenant_id: id.into(),
        name: String::new(),
    };
    assert_eq!(
        ok(admin.get_tenant(by_id(&acme.id))).await.tenant.unwrap(),
        acme
    );
    let err = admin
        .get_tenant(by_id(&uuid::Uuid::new_v4().to_string()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    // Renamed once; the same name again changes nothing; a taken name is
    // refused.
    let rename = |name: &str| RenameTenantRequest {
        tenant_id: acme.id.clone(),
        name: name.into(),
    };
    let renamed = ok(admin.rename_tenant(rename("acme-corp"))).await;
    assert!(renamed.changed);
    assert_eq!(renamed.tenant.unwrap().name, "acme-corp");
    assert!(!ok(admin.rename_tenant(rename("acme-corp"))).await.changed);
    let err = admin.rename_tenant(rename("globex")).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");

    // Disabled and enabled once each; repeats change nothing.
    let disable = || DisableTenantRequest {
        tenant_id: acme.id.clone(),
        reason: "invoice 2026-11 unpaid".into(),
    };
    let disabled = ok(admin.disable_tenant(disable())).await;
    assert!(disabled.changed);
    let t = disabled.tenant.unwrap();
    assert!(t.disabled_at.is_some());
    assert_eq!(t.disabled_reason, "invoice 2026-11 unpaid");
    let repeat = ok(admin.disable_tenant(disable())).await;
    assert!(!repeat.changed);
    assert_eq!(repeat.tenant.unwrap().disabled_at, t.disabled_at);
    let enable = || EnableTenantRequest {
        tenant_id: acme.id.clone(),
    };
    let enabled = ok(admin.enable_tenant(enable())).await;
    assert!(enabled.changed && enabled.tenant.unwrap().disabled_at.is_none());
    assert!(!ok(admin.enable_tenant(enable())).await.changed);

    // Bad input names its field.
    let err = admin.get_tenant(by_id("")).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["tenant_id"]);
    let err = admin
        .list_tenants(list(10, "not-a-token"))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["page_token"]);
    let err = admin
        .rename_tenant(rename(&"x".repeat(129)))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["name"]);
    let err = admin
        .disable_tenant(DisableTenantRequest {
            tenant_id: String::new(),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["tenant_id", "reason"]);
    let err = admin.create_tenant(create("", "")).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["request_id", "name"]);

    // Each change is in the tenant's own trail, by "admin"; nothing of it
    // in the other tenant's.
    let trail = ListAuditEventsRequest {
        page_size: 50,
        target_prefix: "tenant".into(),
        ..Default::default()
    };
    let events = ok(keys(&ts, &key).list_audit_events(trail.clone()))
        .await
        .events;
    let methods: Vec<&str> = events
        .iter()
        .map(|e| e.rpc.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        methods,
        [
            "EnableTenant",
            "DisableTenant",
            "RenameTenant",
            "CreateTenant"
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.actor == "admin" && e.target == "tenant")
    );
    let summary: serde_json::Value = serde_json::from_str(&events[2].summary).unwrap();
    assert_eq!(summary["before"]["name"], "acme");
    assert_eq!(summary["after"]["name"], "acme-corp");
    let summary: serde_json::Value = serde_json::from_str(&events[1].summary).unwrap();
    assert_eq!(summary["after"]["disabled"], true);
    let (_, other_key) = ts.tenant("initech", "EUR").await;
    let theirs = ok(keys(&ts, &other_key).list_audit_events(trail)).await;
    assert!(theirs.events.is_empty(), "{theirs:?}");
    ts.stop().await;
}

async fn a_disabled_tenant_is_refused_by_every_server(backend: Backend) {
    let config = config(backend).await;
    let one = server(config.clone()).await;
    let two = server(config).await;
    let (acme, acme_key) = one.tenant("acme", "EUR").await;
    let (_, globex_key) = one.tenant("globex", "EUR").await;
    // The second server knows both keys (and caches them).
    let (mut acme_two, mut globex_two) = (keys(&two, &acme_key), keys(&two, &globex_key));
    assert_eq!(key_code(&mut acme_two).await, Code::Ok);
    assert_eq!(key_code(&mut globex_two).await, Code::Ok);

    let disable = DisableTenantRequest {
        tenant_id: acme.id.to_string(),
        reason: "offboarded".into(),
    };
    assert!(ok(admin(&one, ADMIN).disable_tenant(disable)).await.changed);
    // The server that disabled it refuses at once; the other within a
    // second (the bound a revoked key is refused within), with slack for a
    // loaded test machine.
    assert_eq!(
        key_code(&mut keys(&one, &acme_key)).await,
        Code::Unauthenticated
    );
    let took = until_key(&mut acme_two, Code::Unauthenticated, Duration::from_secs(3)).await;
    assert!(took.is_some(), "the second server still takes the key");
    println!("DISABLE refused on the second server after {took:?} ({backend:?})");
    assert_eq!(key_code(&mut globex_two).await, Code::Ok, "another tenant");

    let enable = EnableTenantRequest {
        tenant_id: acme.id.to_string(),
    };
    assert!(ok(admin(&two, ADMIN).enable_tenant(enable)).await.changed);
    assert_eq!(key_code(&mut acme_two).await, Code::Ok);
    let took = until_key(&mut keys(&one, &acme_key), Code::Ok, Duration::from_secs(8)).await;
    assert!(took.is_some(), "the first server still refuses the key");
    assert_eq!(key_code(&mut globex_two).await, Code::Ok);
    one.stop().await;
    two.stop().await;
}

backend_tests!(
    only_the_admin_token_calls_admin_service,
    operators_manage_tenants,
    a_disabled_tenant_is_refused_by_every_server,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_calls_work_as_json_over_http() {
    let ts = server(config(Backend::Sqlite).await).await;
    let (tenant, key) = ts.tenant("acme", "EUR").await;
    let url = ts.url();
    let post = |path: &str, token: &str, body: &str| {
        curl(&[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-H",
            &format!("Authorization: Bearer {token}"),
            "-d",
            body,
            &format!("{url}/rapport.v1.AdminService/{path}"),
        ])
    };
    let (status, body) = post("ListTenants", ADMIN, "{}");
    assert_eq!(status, 200, "{body}");
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(listed["tenants"][0]["name"], "acme", "{listed}");
    assert_eq!(listed["tenants"][0]["activeKeys"], "1", "{listed}");

    let (status, body) = post("ListTenants", &key, "{}");
    assert_eq!(status, 403, "{body}");
    let disable = format!(r#"{{"tenantId": "{}", "reason": "unpaid"}}"#, tenant.id);
    let (status, body) = post("DisableTenant", ADMIN, &disable);
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["changed"], true, "{answer}");
    let (status, body) = post("RenameTenant", ADMIN, r#"{"tenantId": "", "name": "x"}"#);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("tenant_id"), "{body}");

    // The document says AdminService takes the admin token, not a key.
    let (status, doc) = curl(&[&format!("{url}/openapi.json")]);
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(
        doc["components"]["securitySchemes"]["adminToken"]["scheme"],
        "bearer"
    );
    let op = &doc["paths"]["/rapport.v1.AdminService/DisableTenant"]["post"];
    assert_eq!(op["security"], serde_json::json!([{ "adminToken": [] }]));
    let op = &doc["paths"]["/rapport.v1.TenantsService/ListApiKeys"]["post"];
    assert!(op.get("security").is_none(), "{op}");
    ts.stop().await;
}

/// The `rapport` binary beside this test's.
fn rapport() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test path");
    let bin = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target dir")
        .join("rapport");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p rapport`",
        bin.display()
    );
    bin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rapport_tenant_commands_go_to_admin_service() {
    let ts = server(config(Backend::Postgres).await).await;
    let (acme, key) = ts.tenant("acme", "EUR").await;
    let url = ts.url();
    let cli = |args: &[&str]| {
        let mut cmd = std::process::Command::new(rapport());
        cmd.arg("tenant")
            .args(args)
            .args(["--server", &url])
            .env("RAPPORT_ADMIN_TOKEN", ADMIN)
            .env("RUST_LOG", "warn")
            .env_remove("DATABASE_URL")
            .env_remove("RAPPORT_DATABASE_URL");
        cmd
    };
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let mut cmd = cli(&args.iter().map(String::as_str).collect::<Vec<_>>());
        async move {
            tokio::task::spawn_blocking(move || testing::run_ok(&mut cmd))
                .await
                .unwrap()
        }
    };

    let listed = run(&["list"]).await;
    assert!(listed.starts_with("id "), "{listed}");
    let row = listed.lines().nth(1).expect("a row");
    assert!(row.starts_with(&acme.id.to_string()), "{listed}");
    assert!(row.contains("acme") && row.contains("1/0") && row.contains("enabled"));

    let shown = run(&["show", "acme"]).await;
    let field = |text: &str, name: &str| -> String {
        let line = text.lines().find(|l| l.starts_with(&format!("{name} ")));
        line.map(|l| l[name.len()..].trim().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(field(&shown, "id"), acme.id.to_string(), "{shown}");
    assert_eq!(field(&shown, "status"), "enabled", "{shown}");
    assert_eq!(field(&shown, "active keys"), "1", "{shown}");

    let renamed = run(&["rename", "acme", "acme-corp"]).await;
    assert!(renamed.contains("from acme to acme-corp"), "{renamed}");
    let again = run(&["rename", &acme.id.to_string(), "acme-corp"]).await;
    assert!(again.contains("nothing changed"), "{again}");

    let disabled = run(&["disable", "acme-corp", "--reason", "unpaid"]).await;
    assert!(disabled.contains("disabled tenant acme-corp"), "{disabled}");
    assert_eq!(key_code(&mut keys(&ts, &key)).await, Code::Unauthenticated);
    let shown = run(&["show", "acme-corp"]).await;
    let status = field(&shown, "status");
    assert!(
        status.starts_with("disabled since") && status.ends_with("(unpaid)"),
        "{shown}"
    );
    let enabled = run(&["enable", "acme-corp"]).await;
    assert!(enabled.contains("enabled tenant acme-corp"), "{enabled}");
    assert_eq!(key_code(&mut keys(&ts, &key)).await, Code::Ok);

    // Without the token, the command says what it needs.
    let mut cmd = cli(&["list"]);
    cmd.env_remove("RAPPORT_ADMIN_TOKEN");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("RAPPORT_ADMIN_TOKEN"), "{stderr}");
    // A wrong token is refused by the server.
    let mut cmd = cli(&["show", "acme-corp"]);
    cmd.env("RAPPORT_ADMIN_TOKEN", &key);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("takes the admin token"), "{stderr}");
    ts.stop().await;
}
