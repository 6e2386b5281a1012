//! Interaction events: stored once, validated per row, queued for scoring.

use std::collections::HashMap;

use rapport_kit::testing::Backend;
use rapport_proto::v1::{
    ExternalIdentity, IngestEventsRequest, InteractionEvent, change_event::Change,
};
use tonic::Code;

use crate::support::{Harness, days_ago, ingest_events};

rapport_kit::backend_tests!(events_are_stored_once_and_validated);

/// A good page visit by the web visitor "visitor-1".
pub fn event(external_id: &str, kind: &str) -> InteractionEvent {
    InteractionEvent {
        source: "web".into(),
        external_id: external_id.into(),
        customer: Some(ExternalIdentity {
            source: String::new(),
            external_id: "visitor-1".into(),
        }),
        kind: kind.into(),
        occurred_at: Some(days_ago(2)),
        properties: HashMap::from([("page".to_owned(), "/pricing".to_owned())]),
        ..Default::default()
    }
}

async fn events_are_stored_once_and_validated(backend: Backend) {
    let h = Harness::start(backend).await;
    let (tenant, mut client) = h.tenant("acme").await;
    let too_many = (0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    let huge_value = HashMap::from([("note".to_owned(), "x".repeat(10 << 20))]);
    let events = vec![
        event("E-1", "visit"),
        event("E-2", "Cart-Abandoned"),
        InteractionEvent {
            properties: too_many,
            ..event("E-3", "visit")
        },
        InteractionEvent {
            properties: huge_value,
            ..event("E-4", "visit")
        },
        event("E-5", "email_opened"),
        event("E-1", "visit"),
    ];
    let req = IngestEventsRequest { events };
    let res = ingest_events(&mut client, req.clone()).await;
    assert_eq!(
        (res.accepted, res.duplicates, res.customers_created),
        (2, 1, 1),
        "{res:?}"
    );
    let fields: Vec<&str> = res.rejected.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "events[1].kind",
            "events[2].properties",
            "events[3].properties[\"note\"]"
        ]
    );
    assert!(
        res.rejected
            .iter()
            .all(|e| e.code == Code::InvalidArgument as i32)
    );

    let again = ingest_events(&mut client, req).await;
    assert_eq!((again.accepted, again.duplicates), (0, 3));
    assert_eq!(h.count("events").await, 2);

    let customer = h.profiles.customer_of(tenant, "web", "visitor-1").unwrap();
    let outbox = h.outbox().await;
    assert_eq!(outbox.len(), 2);
    for (t, change) in &outbox {
        assert_eq!(*t, tenant);
        assert!(change.id.starts_with("evt:"), "{}", change.id);
        assert_eq!(change.customer_id, customer.to_string());
        assert!(
            matches!(&change.change, Some(Change::Interaction(i)) if i.kind == "visit" || i.kind == "email_opened")
        );
    }

    let rows = (0..10_001)
        .map(|i| event(&format!("E-{i}"), "visit"))
        .collect();
    let err = client
        .ingest_events(IngestEventsRequest { events: rows })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    h.stop().await;
}
