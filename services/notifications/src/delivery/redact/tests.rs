use super::{MAX_SUMMARY_CHARS, summary};

fn kept(body: &str) -> String {
    summary(body.as_bytes())
}

#[test]
fn an_error_keeps_its_words_and_codes() {
    assert_eq!(
        kept(r#"{"error":{"code":21211,"message":"The 'To' number is not valid."}}"#),
        r#"{"error":{"code":21211,"message":"The 'To' number is not valid."}}"#
    );
    assert_eq!(kept("Service  Unavailable\r\n"), "Service Unavailable");
}

#[test]
fn secrets_addresses_and_numbers_go() {
    let said = kept(
        "invalid token sk_live_4eC39HqLyjWDarjtT1zdp7dc for ada@example.com, \
         call +41 79 123 45 67 or see https://example.com/a?sig=abc; \
         password: hunter; card 4242424242424242; Bearer eyJhbGciOiJIUzI1NiJ9",
    );
    for gone in [
        "sk_live", "4eC39", "ada", "example", "79", "123", "https", "sig", "hunter", "4242", "eyJ",
    ] {
        assert!(!said.contains(gone), "{gone} in {said}");
    }
    assert!(
        said.starts_with("invalid token [redacted] for [redacted]"),
        "{said}"
    );
    assert!(said.contains("call [redacted]"), "{said}");
}

#[test]
fn long_letter_runs_go_and_the_summary_is_bounded() {
    assert_eq!(
        kept("key abcdefghijklmnopqrstuvwxyzabcdef"),
        "key [redacted]"
    );
    assert_eq!(kept("x abcdefghijklmnopqrstuvwxyzabcdef"), "x [redacted]");
    let long = "word ".repeat(1_000);
    assert!(kept(&long).chars().count() <= MAX_SUMMARY_CHARS + 1);
}
