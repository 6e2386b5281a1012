use std::collections::HashSet;

use prost::Message;

use super::*;

/// Every `/package.Service/Method` the contracts define.
fn defined_methods() -> HashSet<String> {
    let set = prost_types::FileDescriptorSet::decode(rapport_proto::FILE_DESCRIPTOR_SET)
        .expect("descriptor set");
    let mut methods = HashSet::new();
    for file in set.file {
        let package = file.package().to_owned();
        for service in &file.service {
            for method in &service.method {
                methods.insert(format!("/{package}.{}/{}", service.name(), method.name()));
            }
        }
    }
    methods
}

#[test]
fn every_allowed_method_exists() {
    let defined = defined_methods();
    for caller in Caller::ALL {
        for method in caller.methods() {
            assert!(
                defined.contains(*method),
                "{caller:?} may call unknown {method}"
            );
        }
    }
}

#[test]
fn profiles_may_only_export_and_erase_customers() {
    let profiles = Caller::Profiles;
    assert!(profiles.may_call("/rapport.v1.IngestionService/EraseCustomerActivity"));
    assert!(profiles.may_call("/rapport.v1.ScoringService/ExportCustomerScores"));
    assert!(profiles.may_call("/rapport.v1.NotificationsService/EraseCustomerNotifications"));
    assert!(!profiles.may_call("/rapport.v1.ScoringService/ApplyChanges"));
    assert!(!profiles.may_call("/rapport.v1.IngestionService/IngestTransactions"));
    assert!(!Caller::Scoring.may_call("/rapport.v1.IngestionService/EraseCustomerActivity"));
}

#[test]
fn scoring_may_look_up_endpoints_but_not_change_them() {
    let scoring = Caller::Scoring;
    assert!(scoring.may_call("/rapport.v1.NotificationsService/GetIntegrationEndpoint"));
    assert!(!scoring.may_call("/rapport.v1.NotificationsService/PutIntegrationEndpoint"));
    assert!(!scoring.may_call("/rapport.v1.NotificationsService/DeleteIntegrationEndpoint"));
    assert!(!scoring.may_call("/rapport.v1.NotificationsService/ListIntegrationEndpoints"));
}

#[test]
fn ingestion_may_only_deliver_changes_and_resolve() {
    let ingestion = Caller::Ingestion;
    assert!(ingestion.may_call("/rapport.v1.ScoringService/ApplyChanges"));
    assert!(ingestion.may_call("/rapport.v1.ProfilesService/ResolveIdentities"));
    assert!(!ingestion.may_call("/rapport.v1.ScoringService/UpdateScoringSettings"));
    assert!(!ingestion.may_call("/rapport.v1.ProfilesService/DeleteCustomer"));
    assert!(!Caller::Notifications.may_call("/rapport.v1.ScoringService/ApplyChanges"));
}

fn config_with(tokens: &[(&str, &str)]) -> Config {
    let mut config = Config::default();
    for (key, value) in tokens {
        config.set(key, value).expect("setting");
    }
    config
}

#[test]
fn a_service_needs_its_own_credential_and_its_callers() {
    let config = config_with(&[("internal_tokens.scoring", "scoring-0123456789abcdef")]);
    let err = credentials(&config, Shape::Service("profiles")).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("RAPPORT_INTERNAL_TOKENS__INGESTION"),
        "{message}"
    );
    assert!(
        message.contains("RAPPORT_INTERNAL_TOKENS__NOTIFICATIONS"),
        "{message}"
    );
    assert!(!message.contains("__SCORING"), "{message}");
    // Ingestion is called only by profiles, to export and erase customers:
    // its own credential is all it needs (profiles' is optional: without it
    // those calls are refused); profiles' is accepted when set.
    let config = config_with(&[("internal_tokens.ingestion", "ingest-0123456789abcdef")]);
    let (_, presented) = credentials(&config, Shape::Service("ingestion")).unwrap();
    assert_eq!(presented.token().expose(), "ingest-0123456789abcdef");
    // Profiles without its own credential starts, presenting one no one
    // accepts.
    let config = config_with(&[
        ("internal_tokens.ingestion", "ingest-0123456789abcdef"),
        ("internal_tokens.scoring", "scoring-0123456789abcdef"),
        ("internal_tokens.notifications", "notify-0123456789abcdef"),
    ]);
    let (accepted, presented) = credentials(&config, Shape::Service("profiles")).unwrap();
    assert_eq!(
        accepted.callers(&hash_key(presented.token().expose())),
        None
    );
    let config = config_with(&[
        ("internal_tokens.ingestion", "ingest-0123456789abcdef"),
        ("internal_tokens.profiles", "profiles-0123456789abcdef"),
    ]);
    let (accepted, presented) = credentials(&config, Shape::Service("ingestion")).unwrap();
    assert_eq!(presented.token().expose(), "ingest-0123456789abcdef");
    assert_eq!(
        accepted.callers(&hash_key("profiles-0123456789abcdef")),
        Some(&[Caller::Profiles][..])
    );
    assert!(credentials(&Config::default(), Shape::Service("ingestion")).is_err());
}

#[test]
fn current_and_previous_are_both_accepted_and_the_current_presented() {
    let config = config_with(&[
        (
            "internal_tokens.ingestion",
            "ingest-new-0123456789, ingest-old-0123456789",
        ),
        ("internal_token", "shared-0123456789abcdef"),
    ]);
    let (accepted, presented) = credentials(&config, Shape::Service("ingestion")).unwrap();
    assert_eq!(presented.token().expose(), "ingest-new-0123456789");
    for token in ["ingest-new-0123456789", "ingest-old-0123456789"] {
        assert_eq!(
            accepted.callers(&hash_key(token)),
            Some(&[Caller::Ingestion][..])
        );
    }
    // The shared setting stands for the callers left unset, not for ingestion.
    assert_eq!(
        accepted.callers(&hash_key("shared-0123456789abcdef")),
        Some(&[Caller::Scoring, Caller::Notifications, Caller::Profiles][..])
    );
    let short = config_with(&[("internal_tokens.scoring", "short")]);
    assert!(credentials(&short, Shape::AllInOne).is_err());
}
