use super::*;

#[test]
fn untrusted_until_live_and_emptied_when_lost() {
    let near = Near::new(1 << 20);
    assert_eq!(near.epoch(), None);
    near.resumed();
    let epoch = near.epoch().unwrap();
    near.fill("k", 3, b"v3", epoch);
    assert_eq!(near.get("k").as_deref(), Some(&b"v3"[..]));
    near.lost();
    assert_eq!(near.get("k"), None);
    near.resumed();
    assert_eq!(near.get("k"), None, "nothing survives a lost subscription");
    // A fill read under the old epoch is discarded.
    near.fill("k", 3, b"v3", epoch);
    assert_eq!(near.get("k"), None);
}

#[test]
fn an_invalidation_beats_a_slower_read_of_an_older_version() {
    let near = Near::new(1 << 20);
    near.resumed();
    let epoch = near.epoch().unwrap();
    near.fill("k", 1, b"v1", epoch);
    near.invalidate("k", 2);
    assert_eq!(near.get("k"), None);
    // A read of version 1 that was in flight comes back late.
    near.fill("k", 1, b"v1", epoch);
    assert_eq!(near.get("k"), None);
    // Version 2 (or a richer copy of it) may be kept.
    near.fill("k", 2, b"v2", epoch);
    assert_eq!(near.get("k").as_deref(), Some(&b"v2"[..]));
}

#[test]
fn messages_parse() {
    assert_eq!(
        parse_message(b"00000000000000000042 a:{t}:score:c"),
        Some((42, "a:{t}:score:c"))
    );
    assert_eq!(parse_message(b"nonsense"), None);
    assert_eq!(parse_message(b"x k"), None);
}
