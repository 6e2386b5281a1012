use rapport_kit::config::Secret;
use uuid::Uuid;

use super::{Key, SealError, Stored};

#[test]
fn a_sealed_secret_opens_only_for_its_tenant_and_key() {
    let (key, _) = Key::generate();
    let (other, _) = Key::generate();
    let (tenant, stranger) = (Uuid::new_v4(), Uuid::new_v4());
    let secret = "whsec_0123456789abcdef";
    let sealed = key.seal(tenant, secret);
    assert!(!sealed.contains(secret) && !sealed.contains("0123456789abcdef"));
    assert_ne!(sealed, key.seal(tenant, secret), "a fresh nonce each time");
    let stored = Stored::of(&sealed);
    assert_eq!(stored.key_id(), Some(key.id()));
    assert_eq!(stored.open(tenant, &[&other, &key]).unwrap(), secret);
    assert!(matches!(
        stored.open(stranger, &[&key]),
        Err(SealError::Damaged(_))
    ));
    assert!(matches!(
        stored.open(tenant, &[&other]),
        Err(SealError::UnknownKey(id)) if id == key.id()
    ));
    // Plaintext from before sealing reads as it is.
    assert_eq!(Stored::of(secret), Stored::Plain(secret));
    assert_eq!(Stored::of(secret).open(tenant, &[]).unwrap(), secret);
}

#[test]
fn keys_are_32_bytes_of_base64() {
    let (key, text) = Key::generate();
    assert_eq!(Key::parse(&text).unwrap().id(), key.id());
    for bad in ["", "not base64!", "c2hvcnQ="] {
        let e = Key::parse(&Secret::new(bad)).unwrap_err();
        assert!(e.to_string().contains("notify.secret_key"), "{e}");
    }
    assert!(!format!("{key:?}").contains(text.expose()));
}
