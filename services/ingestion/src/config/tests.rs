use rapport_kit::config::Config;

use super::*;

fn load(pairs: &[(&str, &str)]) -> Result<RelayConfig, ConfigError> {
    let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    Config::load(env, None, &[])?.section()
}

#[test]
fn relay_defaults_and_bounds() {
    let c = load(&[]).unwrap();
    assert_eq!(
        (c.batch_size, c.poll_interval_ms, c.concurrency),
        (500, 500, 2)
    );
    assert_eq!(
        load(&[("RAPPORT_RELAY__BATCH_SIZE", "20")])
            .unwrap()
            .batch_size,
        20
    );
    for (name, value) in [
        ("RAPPORT_RELAY__BATCH_SIZE", "0"),
        ("RAPPORT_RELAY__BATCH_SIZE", "5001"),
        ("RAPPORT_RELAY__CONCURRENCY", "65"),
    ] {
        let e = load(&[(name, value)]).unwrap_err();
        assert!(
            e.to_string().contains(&name[15..].to_ascii_lowercase()),
            "{e}"
        );
    }
}
