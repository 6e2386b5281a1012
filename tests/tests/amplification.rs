//! Requests whose few bytes on the wire stand for millions of nested
//! elements once decoded are refused INVALID_ARGUMENT before they decode,
//! whatever the depth of the elements, while the largest valid requests of
//! the same RPCs still go through.

use std::time::Duration;

use bytes::Bytes;
use prost::Message;
use rapport::suite::Suite;
use rapport_kit::testing::{self, Backend};
use rapport_proto::v1::{
    Consent, CustomerRecord, ExternalIdentity, UpsertCustomersRequest, UpsertCustomersResponse,
};
use rapport_tests::rpc::{Caller, Method, methods};
use tonic::Code;

/// The default `max_message_bytes`.
const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// A length-delimited field of `number` holding `contents`.
fn field(number: u32, contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    prost::encoding::encode_key(number, prost::encoding::WireType::LengthDelimited, &mut out);
    prost::encoding::encode_varint(contents.len() as u64, &mut out);
    out.extend_from_slice(contents);
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
    let suite = Suite::start(testing::config(Backend::Postgres).await)
        .await
        .unwrap();
    suite.wait_ready(Duration::from_secs(30)).await.unwrap();
    let (_, key) = suite
        .app
        .auth
        .tenants()
        .create("acme", "EUR")
        .await
        .unwrap();
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

    // The largest valid upsert: 5,000 customers of 100 attributes and a
    // consent each.
    let request = UpsertCustomersRequest {
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
    };
    let answer = caller
        .call(&upsert, vec![request.encode_to_vec().into()])
        .await
        .expect("the largest valid upsert");
    let answer = UpsertCustomersResponse::decode(answer).unwrap();
    assert_eq!(answer.created, 5_000, "{:?}", answer.rejected.first());
    suite.stop().await.unwrap();
}
