use rapport_kit::config::Config;
use serde_json::Value;

use super::*;

fn load(pairs: &[(&str, &str)]) -> Result<NotifyConfig, ConfigError> {
    let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    Config::load(env, None, &[])?.section()
}

#[test]
fn private_destinations_are_off_unless_allowed() {
    assert!(!load(&[]).unwrap().allow_private_destinations);
    let c = load(&[("RAPPORT_NOTIFY__ALLOW_PRIVATE_DESTINATIONS", "true")]).unwrap();
    assert!(c.allow_private_destinations);
}

#[test]
fn attempts_are_numbers_of_at_least_one() {
    assert_eq!(
        load(&[("RAPPORT_NOTIFY__MAX_ATTEMPTS", "3")])
            .unwrap()
            .max_attempts,
        3
    );
    let e = load(&[("RAPPORT_NOTIFY__MAX_ATTEMPTS", "many")]).unwrap_err();
    assert!(e.to_string().contains("must be a number"), "{e}");
    let e = load(&[("RAPPORT_NOTIFY__MAX_ATTEMPTS", "0")]).unwrap_err();
    assert!(e.to_string().contains("max_attempts"), "{e}");
}

#[test]
fn notify_channels_are_validated() {
    let ok = load(&[
        ("RAPPORT_NOTIFY__SMTP__HOST", "smtp.example.com"),
        ("RAPPORT_NOTIFY__SMTP__TLS", "starttls"),
        ("RAPPORT_NOTIFY__SMTP__FROM", "news@example.com"),
        ("RAPPORT_NOTIFY__SMS__URL", "http://sms.example.com/send"),
        ("RAPPORT_NOTIFY__SMS__AUTH_VALUE", "Bearer t"),
    ])
    .unwrap();
    assert_eq!(ok.smtp.tls, SmtpTls::Starttls);
    assert_eq!(ok.smtp.port, 587);
    let payload = ok.sms.payload("+41 \"x\"", "a\nb", "k");
    let parsed: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(parsed["to"], "+41 \"x\"");
    assert_eq!(parsed["text"], "a\nb");
    for (name, value, needle) in [
        (
            "RAPPORT_NOTIFY__SMTP__HOST",
            "smtp.example.com",
            "smtp.from",
        ),
        ("RAPPORT_NOTIFY__SMS__URL", "ftp://x", "sms.url"),
        ("RAPPORT_NOTIFY__LEASE_MS", "10", "lease_ms"),
        (
            "RAPPORT_NOTIFY__HTTP_CA_FILE",
            "/nonexistent/rapport-ca.pem",
            "http_ca_file",
        ),
    ] {
        let e = load(&[(name, value)]).unwrap_err();
        assert!(e.to_string().contains(needle), "{e}");
    }
    let e = load(&[
        ("RAPPORT_NOTIFY__SMS__URL", "http://sms.example.com/"),
        ("RAPPORT_NOTIFY__SMS__PAYLOAD_TEMPLATE", "{\"to\":{to}}"),
    ])
    .unwrap_err();
    assert!(e.to_string().contains("payload_template"), "{e}");
}

#[test]
fn duration_settings_are_bounded_naming_the_setting() {
    // A lease of u64::MAX milliseconds used to panic the worker when added to
    // the current time; now the process refuses to start, naming it.
    for name in [
        "BASE_BACKOFF_MS",
        "MAX_BACKOFF_MS",
        "DEPENDENCY_WAIT_MS",
        "POLL_INTERVAL_MS",
        "HTTP_TIMEOUT_MS",
        "LEASE_MS",
        "SECRET_OVERLAP_MS",
        "SMTP__TIMEOUT_MS",
    ] {
        let var = format!("RAPPORT_NOTIFY__{name}");
        let e = load(&[(&var, "18446744073709551615")]).unwrap_err();
        let setting = format!("notify.{}", name.to_lowercase().replace("__", "."));
        assert!(e.to_string().contains(&setting), "{var}: {e}");
        assert!(e.to_string().contains("at most 2592000000"), "{var}: {e}");
    }
    let month = load(&[("RAPPORT_NOTIFY__SECRET_OVERLAP_MS", "2592000000")]).unwrap();
    assert_eq!(month.secret_overlap_ms, MAX_DURATION_MS);
}
