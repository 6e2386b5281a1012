use serde::{Deserialize, Serialize};

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A section shaped like a service's: numbers, a flag, an optional text and
/// a nested table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Relayish {
    batch_size: u32,
    enabled: bool,
    url: Option<String>,
    inner: Inner,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Inner {
    port: u16,
}

impl Default for Relayish {
    fn default() -> Self {
        Relayish {
            batch_size: 500,
            enabled: false,
            url: None,
            inner: Inner { port: 587 },
        }
    }
}

impl Default for Inner {
    fn default() -> Self {
        Inner { port: 587 }
    }
}

impl Section for Relayish {
    const NAME: &'static str = "relay";

    fn validate(&self) -> Result<(), ConfigError> {
        if self.batch_size == 0 {
            return Err(ConfigError::Invalid(
                "relay.batch_size must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

#[test]
fn defaults_then_env_then_flags() {
    let c = Config::load(
        env(&[
            ("DATABASE_URL", "postgres://a@h/db"),
            ("RAPPORT_RELAY__BATCH_SIZE", "3"),
            ("RAPPORT_LISTEN", "0.0.0.0:7000"),
            ("HOME", "/root"),
        ]),
        None,
        &[("listen", "127.0.0.1:9000".into())],
    )
    .unwrap();
    assert_eq!(
        c.database_url.as_ref().unwrap().expose(),
        "postgres://a@h/db"
    );
    assert_eq!(c.listen.port(), 9000);
    let relay: Relayish = c.section().unwrap();
    assert_eq!(relay.batch_size, 3);
    assert_eq!(relay.inner.port, 587);
    assert!(!relay.enabled);
}

#[test]
fn sections_are_typed_by_their_owner() {
    let c = Config::load(
        env(&[
            ("RAPPORT_RELAY__ENABLED", "true"),
            ("RAPPORT_RELAY__URL", "http://x"),
            ("RAPPORT_RELAY__INNER__PORT", "25"),
        ]),
        None,
        &[("relay.batch_size", "7".into())],
    )
    .unwrap();
    let relay: Relayish = c.section().unwrap();
    assert_eq!(
        relay,
        Relayish {
            batch_size: 7,
            enabled: true,
            url: Some("http://x".into()),
            inner: Inner { port: 25 },
        }
    );
}

#[test]
fn unknown_and_mistyped_settings_are_refused() {
    let e = Config::load(env(&[("RAPPORT_LISTN", "x")]), None, &[]).unwrap_err();
    assert!(e.to_string().contains("unknown setting listn"));
    let e = Config::load(env(&[("RAPPORT_RELAYY__BATCH_SIZE", "1")]), None, &[]).unwrap_err();
    assert!(e.to_string().contains("unknown setting relayy"), "{e}");
    let e = Config::load(env(&[("DATABASE_URL", "mysql://x")]), None, &[]).unwrap_err();
    assert!(e.to_string().contains("database_url"));

    let c = Config::load(env(&[("RAPPORT_RELAY__BATCH_SIZE", "many")]), None, &[]).unwrap();
    let e = c.section::<Relayish>().unwrap_err();
    assert!(
        e.to_string().contains("relay.batch_size must be a number"),
        "{e}"
    );
    let c = Config::load(env(&[("RAPPORT_RELAY__BATCH_SIZ", "1")]), None, &[]).unwrap();
    let e = c.section::<Relayish>().unwrap_err();
    assert!(
        e.to_string().contains("unknown setting relay.batch_siz"),
        "{e}"
    );
    let c = Config::load(env(&[("RAPPORT_RELAY__BATCH_SIZE", "0")]), None, &[]).unwrap();
    let e = c.section::<Relayish>().unwrap_err();
    assert!(
        e.to_string()
            .contains("relay.batch_size must be at least 1"),
        "{e}"
    );
}

#[test]
fn file_layer_sits_under_env() {
    let dir = std::env::temp_dir().join(format!("rapport-cfg-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rapport.toml");
    std::fs::write(
        &path,
        "cache_prefix = \"file\"\n[relay]\nbatch_size = 10\nenabled = true\n[relay.inner]\nport = 2525\n",
    )
    .unwrap();
    let c = Config::load(
        env(&[("RAPPORT_RELAY__BATCH_SIZE", "20")]),
        Some(&path),
        &[],
    )
    .unwrap();
    assert_eq!(c.cache_prefix, "file");
    let relay: Relayish = c.section().unwrap();
    assert_eq!(relay.batch_size, 20);
    assert!(relay.enabled);
    assert_eq!(relay.inner.port, 2525);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_section_set_in_code_reads_back() {
    let mut c = Config::default();
    c.update_section(|r: &mut Relayish| r.inner.port = 1);
    assert_eq!(c.section::<Relayish>().unwrap().inner.port, 1);
    assert_eq!(c.section::<Relayish>().unwrap().batch_size, 500);
}

#[test]
fn secrets_do_not_print() {
    let s = Secret::new("hunter2");
    assert!(!format!("{s:?}").contains("hunter2"));
}

#[test]
fn sections_do_not_print_their_values() {
    let c = Config::load(
        env(&[("RAPPORT_NOTIFY__SMTP__PASSWORD", "hunter2")]),
        None,
        &[],
    )
    .unwrap();
    let printed = format!("{c:?}");
    assert!(printed.contains("notify"), "{printed}");
    assert!(!printed.contains("hunter2"), "{printed}");
}

#[test]
fn tls_settings_are_checked_naming_the_setting() {
    let load = |pairs: &[(&str, &str)]| Config::load(env(pairs), None, &[]);
    let c = load(&[
        ("REDIS_URL", "rediss://cache:6380"),
        ("RAPPORT_TLS__CERT_FILE", "/certs/tls.crt"),
        ("RAPPORT_TLS__KEY_FILE", "/certs/tls.key"),
        ("RAPPORT_TLS__HEALTH_LISTEN", "0.0.0.0:50052"),
        ("RAPPORT_TLS__CA_FILE", "/certs/ca.crt"),
        ("RAPPORT_PEERS__SCORING_URL", "https://scoring:50051"),
    ])
    .unwrap();
    assert!(c.tls.serves());
    assert_eq!(c.tls.health_listen.unwrap().port(), 50052);

    let e = load(&[("RAPPORT_TLS__CERT_FILE", "/certs/tls.crt")]).unwrap_err();
    assert!(e.to_string().contains("tls.key_file"), "{e}");
    let e = load(&[("RAPPORT_TLS__CLIENT_CA_FILE", "/certs/ca.crt")]).unwrap_err();
    assert!(e.to_string().contains("tls.client_ca_file"), "{e}");
    let e = load(&[("RAPPORT_PEERS__SCORING_URL", "https://scoring:50051")]).unwrap_err();
    assert!(
        e.to_string().contains("peers.scoring_url") && e.to_string().contains("tls.ca_file"),
        "{e}"
    );
    let e = load(&[("REDIS_URL", "memcached://cache")]).unwrap_err();
    assert!(e.to_string().contains("rediss://"), "{e}");
}

#[test]
fn the_byte_budget_holds_the_largest_message() {
    let c = Config::load(env(&[]), None, &[]).unwrap();
    assert!(c.inflight_bytes >= c.max_message_bytes);
    // The largest message the codec admits fits once decoded.
    assert!(c.inflight_bytes >= rapport_proto::codec::MAX_DECODED_BYTES);
    let e = Config::load(env(&[("RAPPORT_INFLIGHT_BYTES", "1048576")]), None, &[]).unwrap_err();
    assert!(e.to_string().contains("inflight_bytes"), "{e}");
    let e = Config::load(env(&[("RAPPORT_STREAM_IDLE_TIMEOUT_MS", "0")]), None, &[]).unwrap_err();
    assert!(e.to_string().contains("stream_idle_timeout_ms"), "{e}");
}

#[test]
fn metrics_settings_are_checked_naming_the_setting() {
    let load = |pairs: &[(&str, &str)]| Config::load(env(pairs), None, &[]);
    let c = load(&[("RAPPORT_METRICS_LISTEN", "0.0.0.0:9090")]).unwrap();
    assert_eq!(c.metrics_listen, Some(([0, 0, 0, 0], 9090).into()));
    assert_eq!(load(&[]).unwrap().metrics_listen, None);
    for bad in ["9090", "metrics:9090", "0.0.0.0"] {
        let e = load(&[("RAPPORT_METRICS_LISTEN", bad)]).unwrap_err();
        assert!(e.to_string().contains("metrics_listen"), "{bad}: {e}");
    }
    let e = load(&[
        ("RAPPORT_METRICS_LISTEN", "127.0.0.1:50051"),
        ("RAPPORT_LISTEN", "127.0.0.1:50051"),
    ])
    .unwrap_err();
    assert!(e.to_string().contains("metrics_listen"), "{e}");
    let e = load(&[("RAPPORT_METRICS_SAMPLE_MS", "0")]).unwrap_err();
    assert!(e.to_string().contains("metrics_sample_ms"), "{e}");
}

#[test]
fn the_admin_token_is_long_and_no_internal_token() {
    let load = |pairs: &[(&str, &str)]| Config::load(env(pairs), None, &[]);
    let token = "admin-0123456789abcdef0123456789abcdef";
    let c = load(&[("RAPPORT_ADMIN_TOKEN", token)]).unwrap();
    assert_eq!(c.admin_token.as_ref().map(Secret::expose), Some(token));
    assert!(!format!("{c:?}").contains(token), "printed");
    assert_eq!(load(&[]).unwrap().admin_token, None);
    let e = load(&[("RAPPORT_ADMIN_TOKEN", "short")]).unwrap_err();
    assert!(e.to_string().contains("admin_token"), "{e}");
    for (name, value) in [
        ("RAPPORT_INTERNAL_TOKEN", token.to_owned()),
        (
            "RAPPORT_INTERNAL_TOKENS__SCORING",
            format!("new-0123456789abcdef,{token}"),
        ),
    ] {
        let e = load(&[("RAPPORT_ADMIN_TOKEN", token), (name, &value)]).unwrap_err();
        assert!(e.to_string().contains("differ"), "{name}: {e}");
    }
}

#[test]
fn a_pooler_url_and_the_direct_url_are_checked() {
    let c = Config::load(
        env(&[
            (
                "DATABASE_URL",
                "postgres://app@pgbouncer:6432/rapport_{schema}",
            ),
            (
                "RAPPORT_DATABASE_DIRECT_URL",
                "postgres://app@primary:5432/rapport",
            ),
        ]),
        None,
        &[],
    )
    .unwrap();
    assert_eq!(
        c.database_direct_url.as_ref().unwrap().expose(),
        "postgres://app@primary:5432/rapport"
    );
    for (vars, field) in [
        (
            &[("RAPPORT_DATABASE_URL", "sqlite:/data/{schema}")][..],
            "database_url",
        ),
        (
            &[
                ("DATABASE_URL", "postgres://a@p/r_{schema}"),
                ("RAPPORT_DATABASE_DIRECT_URL", "redis://x"),
            ][..],
            "database_direct_url must start with postgres://",
        ),
        (
            &[
                ("DATABASE_URL", "postgres://a@p/r_{schema}"),
                ("RAPPORT_DATABASE_DIRECT_URL", "postgres://a@q/r_{schema}"),
            ][..],
            "database_direct_url must reach Postgres itself",
        ),
        (
            &[("RAPPORT_DATABASE_DIRECT_URL", "postgres://a@q/r")][..],
            "database_direct_url needs database_url",
        ),
    ] {
        let e = Config::load(env(vars), None, &[]).unwrap_err();
        assert!(e.to_string().contains(field), "{vars:?}: {e}");
    }
}
