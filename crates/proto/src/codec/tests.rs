use prost::{Message, Name};
use tonic::Code;

use super::{
    MAX_DECODED_BYTES, check_decoded_size,
    shape::Schema,
    walk::{self, Malformed},
};
use crate::v1::{
    ApplyChangesRequest, ChangeEvent, Consent, CustomerRecord, ExternalIdentity,
    IngestEventsRequest, IngestTransactionsRequest, InteractionEvent, ScoreBasis, Transaction,
    TransactionChange, UpsertCustomersRequest, change_event,
};

/// The wire's largest message (the default `max_message_bytes`).
const MAX_MESSAGE_BYTES: usize = 16 << 20;

fn estimate<M: Name>(bytes: &[u8]) -> Result<Option<usize>, Malformed> {
    let schema = Schema::rapport();
    let ty = schema.index(&M::full_name()).expect("a Rapport message");
    walk::decoded_size(schema, ty, bytes, usize::MAX)
}

fn size_of<M: Message + Name>(message: &M) -> usize {
    estimate::<M>(&message.encode_to_vec()).unwrap().unwrap()
}

/// A length-delimited field: tag, length, contents.
fn field(number: u32, contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    prost::encoding::encode_key(number, prost::encoding::WireType::LengthDelimited, &mut out);
    prost::encoding::encode_varint(contents.len() as u64, &mut out);
    out.extend_from_slice(contents);
    out
}

fn timestamp() -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: 1_700_000_000,
        nanos: 0,
    })
}

fn identity(i: usize) -> Option<ExternalIdentity> {
    Some(ExternalIdentity {
        source: "shop".into(),
        external_id: format!("customer-{i:06}"),
    })
}

#[test]
fn the_schema_knows_every_rapport_message_and_the_well_known_types() {
    let schema = Schema::rapport();
    for name in [
        "rapport.v1.UpsertCustomersRequest",
        "rapport.v1.InteractionEvent.PropertiesEntry",
        "google.protobuf.Timestamp",
    ] {
        assert!(schema.index(name).is_some(), "{name}");
    }
    assert_eq!(
        UpsertCustomersRequest::full_name(),
        "rapport.v1.UpsertCustomersRequest"
    );
    // Its struct holds more than a handful of bytes: an element is costed
    // at its size, not at the two bytes it takes on the wire.
    let record = &schema.messages[schema.index("rapport.v1.CustomerRecord").unwrap()];
    assert!(record.size >= 200, "{}", record.size);
}

#[test]
fn empty_nested_elements_are_costed_at_their_decoded_size() {
    // 1,000 customers each with 1,000 empty consents: 2 bytes each on the
    // wire, a whole `Consent` each once decoded.
    let consents = [0x42u8, 0x00].repeat(1_000);
    let record = field(1, &consents);
    let request = record.repeat(1_000);
    let size = estimate::<UpsertCustomersRequest>(&request)
        .unwrap()
        .unwrap();
    let consent =
        Schema::rapport().messages[Schema::rapport().index("rapport.v1.Consent").unwrap()].size;
    assert!(size >= 1_000_000 * consent, "{size}");
    // The same bytes decoded agree: a million consents.
    let decoded = UpsertCustomersRequest::decode(&request[..]).unwrap();
    assert_eq!(
        decoded
            .customers
            .iter()
            .map(|c| c.consents.len())
            .sum::<usize>(),
        1_000_000
    );
}

#[test]
fn nested_amplification_within_the_message_limit_is_refused() {
    // 8 million empty consents spread over 5,000 customers, under 16 MiB.
    let consents = [0x42u8, 0x00].repeat(1_600);
    let request = field(1, &consents).repeat(5_000);
    assert!(request.len() < MAX_MESSAGE_BYTES, "{}", request.len());
    let refused = check_decoded_size::<UpsertCustomersRequest>(&request).unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("decoded-size limit"),
        "{refused:?}"
    );
    assert!(
        refused.message().contains("UpsertCustomersRequest"),
        "{refused:?}"
    );

    // Map entries are nested messages too: 10,000 events of empty properties.
    let properties = [0x3au8, 0x00].repeat(800);
    let request = field(1, &properties).repeat(10_000);
    assert!(request.len() < MAX_MESSAGE_BYTES, "{}", request.len());
    let refused = check_decoded_size::<IngestEventsRequest>(&request).unwrap_err();
    assert!(
        refused.message().contains("decoded-size limit"),
        "{refused:?}"
    );
}

#[test]
fn the_largest_valid_requests_pass() {
    // Ingestion's 10,000 events, each with its 50 properties (short ones:
    // longer strings take wire bytes, not more elements).
    let events = IngestEventsRequest {
        events: (0..10_000)
            .map(|i| InteractionEvent {
                source: "web".into(),
                external_id: format!("event-{i:06}"),
                customer: identity(i),
                kind: "page_view".into(),
                occurred_at: timestamp(),
                properties: (0..50).map(|p| (format!("p{p:02}"), "v".into())).collect(),
                ..Default::default()
            })
            .collect(),
    };
    // Profiles' 5,000 records with their 100 attributes and a consent per channel.
    let customers = UpsertCustomersRequest {
        customers: (0..5_000)
            .map(|i| CustomerRecord {
                identity: identity(i),
                display_name: "n".repeat(256),
                email: format!("c{i}@example.com"),
                attributes: (0..100)
                    .map(|a| (format!("attribute-{a:03}"), "x".into()))
                    .collect(),
                consents: (1..=3)
                    .map(|channel| Consent {
                        channel,
                        granted: true,
                        granted_at: timestamp(),
                        revoked_at: None,
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
    };
    // Ingestion's 10,000 transactions of full-length categories.
    let transactions = IngestTransactionsRequest {
        transactions: (0..10_000)
            .map(|i| Transaction {
                source: "shop".into(),
                external_id: format!("order-{i:06}"),
                customer: identity(i),
                occurred_at: timestamp(),
                currency_code: "EUR".into(),
                category: "c".repeat(128),
                ..Default::default()
            })
            .collect(),
    };
    // Scoring's 5,000 changes, as the relay sends them (within 4 MiB).
    let changes = ApplyChangesRequest {
        changes: (0..5_000)
            .map(|i| ChangeEvent {
                id: format!("change-{i:08}"),
                customer_id: format!("customer-{i:06}"),
                change: Some(change_event::Change::Transaction(TransactionChange {
                    ..Default::default()
                })),
            })
            .collect(),
    };
    let figures = [
        ("events", events.encoded_len(), size_of(&events)),
        ("customers", customers.encoded_len(), size_of(&customers)),
        (
            "transactions",
            transactions.encoded_len(),
            size_of(&transactions),
        ),
        ("changes", changes.encoded_len(), size_of(&changes)),
    ];
    for (name, wire, decoded) in figures {
        println!("{name}: {wire} bytes on the wire, {decoded} decoded");
        assert!(
            wire <= MAX_MESSAGE_BYTES,
            "{name}: {wire} bytes on the wire"
        );
        assert!(
            decoded + MAX_MESSAGE_BYTES <= MAX_DECODED_BYTES,
            "{name}: {decoded} bytes decoded from {wire}, no room for longer strings"
        );
    }
    check_decoded_size::<IngestEventsRequest>(&events.encode_to_vec()).unwrap();
    check_decoded_size::<UpsertCustomersRequest>(&customers.encode_to_vec()).unwrap();
}

#[test]
fn packed_numbers_are_costed_per_decoded_number() {
    let basis = ScoreBasis {
        months: (0..1_000).collect(),
        ..Default::default()
    };
    let bytes = basis.encode_to_vec();
    let base = size_of(&ScoreBasis::default());
    // Each month is a one- or two-byte varint that decodes to a 4-byte
    // number: the walk assumes the worst, 8 bytes per byte.
    let size = estimate::<ScoreBasis>(&bytes).unwrap().unwrap();
    assert!(size >= base + 4 * 1_000, "{size}");
    assert!(size <= base + 8 * bytes.len(), "{size}");
    // Unpacked, each one is costed on its own.
    let mut unpacked = Vec::new();
    for m in 0..1_000 {
        prost::encoding::int32::encode(7, &m, &mut unpacked);
    }
    let size = estimate::<ScoreBasis>(&unpacked).unwrap().unwrap();
    assert_eq!(size, base + 8 * 1_000);
    assert_eq!(
        ScoreBasis::decode(&unpacked[..]).unwrap().months.len(),
        1_000
    );
}

#[test]
fn unknown_fields_and_groups_are_stepped_over_for_free() {
    let base = size_of(&UpsertCustomersRequest::default());
    let mut bytes = Vec::new();
    // Unknown field 99: a varint, a fixed64, a fixed32, a string of 3 bytes,
    // and a group holding a nested group and a string.
    for (wire, body) in [(0u8, vec![0x96, 0x01]), (1, vec![0; 8]), (5, vec![0; 4])] {
        prost::encoding::encode_varint((99 << 3) | u64::from(wire), &mut bytes);
        bytes.extend(body);
    }
    bytes.extend(field(99, b"abc"));
    prost::encoding::encode_varint((99 << 3) | 3, &mut bytes);
    prost::encoding::encode_varint((5 << 3) | 3, &mut bytes);
    bytes.extend(field(1, &[0x42, 0x00]));
    prost::encoding::encode_varint((5 << 3) | 4, &mut bytes);
    prost::encoding::encode_varint((99 << 3) | 4, &mut bytes);
    // Then a real (empty) customer.
    bytes.extend(field(1, &[]));
    let record = Schema::rapport().messages[Schema::rapport()
        .index("rapport.v1.CustomerRecord")
        .unwrap()]
    .size;
    let size = estimate::<UpsertCustomersRequest>(&bytes).unwrap().unwrap();
    assert_eq!(size, base + record + walk::ELEMENT_OVERHEAD);
    // Prost agrees the bytes are well formed and skips the unknown ones.
    assert_eq!(
        UpsertCustomersRequest::decode(&bytes[..])
            .unwrap()
            .customers
            .len(),
        1
    );
}

#[test]
fn malformed_input_is_answered_as_malformed() {
    let good = field(1, &field(8, &[0x08, 0x01]));
    let cases: [(&str, Vec<u8>, Malformed); 5] = [
        (
            "truncated nested message",
            good[..good.len() - 1].to_vec(),
            Malformed::Truncated,
        ),
        (
            "nested longer than its parent",
            {
                let mut b = field(1, &[0x42, 0x05, 0, 0]);
                b.extend([0, 0, 0]);
                b
            },
            Malformed::Truncated,
        ),
        ("truncated varint", vec![0x08, 0x80], Malformed::Truncated),
        (
            "end group without start",
            vec![(9 << 3) | 4],
            Malformed::UnmatchedGroupEnd,
        ),
        ("wire type 7", vec![(9 << 3) | 7], Malformed::WireType(7)),
    ];
    for (name, bytes, expected) in cases {
        let err = estimate::<UpsertCustomersRequest>(&bytes).unwrap_err();
        assert_eq!(err, expected, "{name}");
        assert!(
            UpsertCustomersRequest::decode(&bytes[..]).is_err(),
            "prost agrees: {name}"
        );
    }
    // Padded past the walk's threshold, it is the caller's error.
    let mut bytes = vec![0x08, 0x80];
    bytes.splice(0..0, field(99, &vec![0; super::WALK_FROM_BYTES]));
    let status = check_decoded_size::<UpsertCustomersRequest>(&bytes).unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("malformed message"),
        "{status:?}"
    );
}

#[test]
fn nesting_is_bounded_and_the_walk_linear() {
    // Customer.parent_id is a string, so nest through unknown groups.
    let depth = walk::MAX_DEPTH + 1;
    let mut bytes = Vec::new();
    for _ in 0..depth {
        prost::encoding::encode_varint((99 << 3) | 3, &mut bytes);
    }
    for _ in 0..depth {
        prost::encoding::encode_varint((99 << 3) | 4, &mut bytes);
    }
    assert_eq!(
        estimate::<UpsertCustomersRequest>(&bytes).unwrap_err(),
        Malformed::TooDeep
    );
    // Just within the bound it walks; each byte is looked at once, so a deep
    // message costs no more than a flat one of the same length.
    let ok = walk::MAX_DEPTH - 1;
    let bytes = [
        std::iter::repeat_n((9u8 << 3) | 3, ok).collect::<Vec<_>>(),
        std::iter::repeat_n((9u8 << 3) | 4, ok).collect(),
    ]
    .concat();
    assert_eq!(
        estimate::<UpsertCustomersRequest>(&bytes),
        Ok(Some(size_of(&UpsertCustomersRequest::default())))
    );
}

#[test]
fn the_walk_stops_at_the_limit() {
    let request = field(1, &[]).repeat(10_000);
    let schema = Schema::rapport();
    let ty = schema.index("rapport.v1.UpsertCustomersRequest").unwrap();
    assert_eq!(walk::decoded_size(schema, ty, &request, 1_000), Ok(None));
    assert!(
        walk::decoded_size(schema, ty, &request, usize::MAX)
            .unwrap()
            .is_some()
    );
}
