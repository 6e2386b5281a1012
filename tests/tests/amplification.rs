//! Requests whose few bytes on the wire stand for millions of nested
//! elements once decoded are refused INVALID_ARGUMENT before they decode,
//! whatever the depth of the elements, while the largest valid requests of
//! the same RPCs still go through.

use std::time::Duration;

use bytes::Bytes;
use prost::Message;
use rapport_kit::testing::{self, Backend};
use rapport_proto::v1::{
    Consent, CustomerRecord, ExternalIdentity, UpsertCustomersRequest, UpsertCustomersResponse,
};
use rapport_tests::{
    all_in_one::{serving, tenant},
    rpc::{Caller, Method, methods},
};
use tonic::Code;

/// The default `max_message_bytes`.
const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// A length-delimited field of `number` holding `contents`.
fn field(number: u32, contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    rapport_kit::codec::put_len_field(&mut out, number, contents);
    out
}

fn method(name: &str) -> Method {
    methods()
        .into_iter()
        .find(|m| m.name == name)
        .expect("a Rapport RPC")
}

/// A refusal by the decoded-size check, not by the message size, the byte
/// budget or validation after decoding.
fn assert_refused_before_decoding(answer: Result<Bytes, tonic::Status>, what: &str) {
    let status = answer.expect_err(what);
    assert_eq!(status.code(), Code::InvalidArgument, "{what}: {status:?}");
    assert!(
        status.message().contains("decoded-size limit"),
        "{what}: {status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_amplification_is_refused_and_the_largest_valid_requests_pass() {
    let suite = serving(testing::config(Backend::Postgres).await).await;
    let (_, key) = tenant(&suite, "acme").await;
    let caller = Caller::new(&suite.url(), &key, Duration::from_secs(60));
    let upsert = method("ProfilesService/UpsertCustomers");

    // 5,000 customers (profiles' batch limit) of 1,600 empty consents each:
    // 8 million `Consent`s, over a gigabyte once decoded, in 16 MB.
    let empty_consents = [0x42u8, 0x00].repeat(1_600);
    let request = field(1, &empty_consents).repeat(5_000);
    assert!(request.len() < MAX_MESSAGE_BYTES, "{}", request.len());
    let answer = caller.call(&upsert, vec![request.into()]).await;
    assert_refused_before_decoding(answer, "empty consents");

    // Map entries are nested messages: 10,000 events each of 800 empty
    // properties (ingestion's batch limit, 16 times its property limit).
    let empty_properties = [0x3au8, 0x00].repeat(800);
    let request = field(1, &empty_properties).repeat(10_000);
    let answer = caller
        .call(
            &method("IngestionService/IngestEvents"),
            vec![request.into()],
        )
        .await;
    assert_refused_before_decoding(answer, "empty properties");

    let request = largest_upsert();
    let answer = caller
        .call(&upsert, vec![request.encode_to_vec().into()])
        .await
        .expect("the largest valid upsert");
    let answer = UpsertCustomersResponse::decode(answer).unwrap();
    assert_eq!(answer.created, 5_000, "{:?}", answer.rejected.first());
    suite.stop().await.unwrap();
}

/// The largest valid upsert: 5,000 customers of 100 attributes and a
/// consent each, about 6 MB on the wire and 43 MB once decoded.
fn largest_upsert() -> UpsertCustomersRequest {
    UpsertCustomersRequest {
        customers: (0..5_000)
            .map(|i| CustomerRecord {
                identity: Some(ExternalIdentity {
                    source: "erp".into(),
                    external_id: format!("C-{i:05}"),
                }),
                display_name: format!("Customer {i}"),
                attributes: (0..100)
                    .map(|a| (format!("a{a:02}"), format!("{i}")))
                    .collect(),
                consents: vec![Consent {
                    channel: 1,
                    granted: true,
                    granted_at: Some(prost_types::Timestamp {
                        seconds: 1_700_000_000,
                        nanos: 0,
                    }),
                    revoked_at: None,
                }],
                ..Default::default()
            })
            .collect(),
    }
}

/// The byte budget counts what a request takes once decoded, not only its
/// wire bytes: twelve of the largest valid upserts at once fit the default
/// 96 MiB budget on the wire (about 6 MB each) but not decoded (about 43 MB
/// each), so most are refused RESOURCE_EXHAUSTED, and the rest complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_byte_budget_counts_decoded_bytes() {
    let suite = serving(testing::config(Backend::Postgres).await).await;
    let (_, key) = tenant(&suite, "acme").await;
    let caller = Caller::new(&suite.url(), &key, Duration::from_secs(120));
    let upsert = method("ProfilesService/UpsertCustomers");
    let request: Bytes = largest_upsert().encode_to_vec().into();
    assert!(
        request.len() * 12 < suite.app.config.inflight_bytes,
        "twelve fit on the wire: {} bytes each",
        request.len()
    );
    let answers =
        futures::future::join_all((0..12).map(|_| caller.call(&upsert, vec![request.clone()])))
            .await;
    let mut done = 0;
    let mut refused = 0;
    for answer in answers {
        match answer {
            Ok(bytes) => {
                let answer = UpsertCustomersResponse::decode(bytes).unwrap();
                assert!(answer.rejected.is_empty(), "{:?}", answer.rejected.first());
                assert_eq!(answer.created + answer.updated + answer.unchanged, 5_000);
                done += 1;
            }
            Err(status) => {
                // Refused as its message is decoded, or as its bytes arrive
                // once decoded messages fill the budget: without counting
                // decoded bytes, all twelve would fit.
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                assert!(status.message().contains("does not fit"), "{status:?}");
                refused += 1;
            }
        }
    }
    println!("12 largest upserts at once: {done} completed, {refused} refused");
    assert!(done >= 1, "at least the first fits");
    assert!(
        refused >= 6,
        "{refused} refused: at most two decoded upserts fit at once"
    );
    suite.stop().await.unwrap();
}

/// Every service states how large a request it decodes, and says so past it:
/// ingestion and profiles take `max_message_bytes` (their batches), scoring
/// the relay's `ApplyChanges` limit, and notifications, rules and the key
/// service the control-plane limit. A request of exactly the limit is read
/// (and judged on its contents); one byte more is OUT_OF_RANGE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_decodes_up_to_its_stated_limit() {
    use rapport_proto::limits::{APPLY_CHANGES_MAX_BYTES, CONTROL_MAX_BYTES};
    let suite = serving(testing::config(Backend::Sqlite).await).await;
    let (_, key) = tenant(&suite, "acme").await;
    let caller = Caller::new(&suite.url(), &key, Duration::from_secs(60));
    let max_message = suite.app.config.max_message_bytes;
    let cases = [
        ("ProfilesService/UpsertCustomers", max_message),
        ("IngestionService/IngestTransactions", max_message),
        ("ScoringService/GetScore", APPLY_CHANGES_MAX_BYTES),
        ("RulesService/ValidateRule", CONTROL_MAX_BYTES),
        ("NotificationsService/PreviewTemplate", CONTROL_MAX_BYTES),
        ("TenantsService/CreateApiKey", CONTROL_MAX_BYTES),
    ];
    for (name, limit) in cases {
        let method = method(name);
        // An empty message padded with an unknown field to `size` bytes.
        let padded = |size: usize| {
            // Field 1000's key takes 2 bytes, its length 1 to 5.
            let len = (1..=5)
                .map(|n| size - 2 - n)
                .find(|&len| prost::encoding::encoded_len_varint(len as u64) == size - 2 - len)
                .expect("a length that fits");
            let bytes = field(1_000, &vec![b'.'; len]);
            assert_eq!(bytes.len(), size);
            Bytes::from(bytes)
        };
        let at_limit = caller.call(&method, vec![padded(limit)]).await;
        if let Err(status) = &at_limit {
            assert_ne!(
                status.code(),
                Code::OutOfRange,
                "{name} at its limit: {status:?}"
            );
        }
        let status = caller
            .call(&method, vec![padded(limit + 1)])
            .await
            .expect_err(name);
        assert_eq!(status.code(), Code::OutOfRange, "{name}: {status:?}");
        assert!(
            status.message().contains(&limit.to_string()),
            "{name} names its limit: {status:?}"
        );
    }
    suite.stop().await.unwrap();
}
