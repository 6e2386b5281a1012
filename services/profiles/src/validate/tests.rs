//! Tests of the field checks.
use super::*;

#[test]
fn emails() {
    assert_eq!(email("").unwrap(), "");
    assert_eq!(email("ana@example.com").unwrap(), "ana@example.com");
    for bad in ["ana", "@example.com", "ana@", "a@b@c", "a b@c.d", "a@b\n"] {
        assert!(email(bad).is_err(), "{bad:?} accepted");
    }
    let long = format!("{}@example.com", "a".repeat(250));
    assert!(email(&long).unwrap_err().contains("254"));
}

#[test]
fn phones_are_normalised() {
    assert_eq!(phone("+41 44-123 45 67").unwrap(), "+41441234567");
    assert_eq!(phone("").unwrap(), "");
    assert!(phone("0441234567").is_err());
    assert!(phone("+1234567").unwrap_err().contains("7 digits"));
    assert!(
        phone("+1234567890123456")
            .unwrap_err()
            .contains("16 digits")
    );
    assert!(phone("+41 (44) 1234567").is_err());
}

#[test]
fn attribute_keys_and_limits() {
    assert!(attribute_key("wallet_estimate_minor").is_ok());
    assert!(attribute_key("geo.region-2").is_ok());
    for bad in ["", "Region", "a b", &"k".repeat(65)] {
        assert!(attribute_key(bad).is_err(), "{bad:?} accepted");
    }
    let mut errors = FieldErrors::new();
    let many: HashMap<_, _> = (0..101)
        .map(|i| (format!("k{i}"), "v".to_owned()))
        .collect();
    assert!(attributes(&many, "customer.attributes", &mut errors).is_empty());
    assert_eq!(errors.violations()[0].0, "customer.attributes");

    let mut errors = FieldErrors::new();
    let map = HashMap::from([
        ("ok".to_owned(), "v".to_owned()),
        ("big".to_owned(), "x".repeat(1025)),
        ("Bad".to_owned(), "v".to_owned()),
    ]);
    let kept = attributes(&map, "a", &mut errors);
    assert_eq!(kept.len(), 1);
    let fields: Vec<_> = errors
        .violations()
        .iter()
        .map(|(f, _)| f.as_str())
        .collect();
    assert_eq!(fields, ["a[\"Bad\"]", "a[\"big\"]"]);
}

#[test]
fn masks_and_enums() {
    assert_eq!(Path::parse("parent_id"), Ok(Path::ParentId));
    assert!(Path::parse("id").is_err());
    assert!(kind(2).is_ok());
    assert!(kind(9).is_err());
    assert!(channel(0).unwrap_err().contains("UNSPECIFIED"));
    assert_eq!(channel(2), Ok(2));
}

#[test]
fn identities_name_their_fields() {
    let mut errors = FieldErrors::new();
    let id = pb::ExternalIdentity {
        source: String::new(),
        external_id: "x".into(),
    };
    assert_eq!(
        identity(Some(&id), "customers[2].identity", &mut errors),
        None
    );
    assert_eq!(errors.violations()[0].0, "customers[2].identity.source");
    let mut errors = FieldErrors::new();
    assert_eq!(identity(None, "identity", &mut errors), None);
    assert_eq!(
        errors.violations()[0],
        ("identity".to_owned(), "required".to_owned())
    );
}
