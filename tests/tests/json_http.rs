//! JSON over HTTP as a caller outside Rust sees it: `curl` against the
//! all-in-one process, over HTTP/1.1 and HTTP/2. The README's curl block is
//! run as written and must print what the README says; errors come back as
//! Connect error JSON with the HTTP status of their code; the OpenAPI
//! document served is the one `rapport contracts openapi` prints and covers
//! every unary RPC. (curl blocks its thread: the servers run on the others.)

use std::process::Command;

use rapport_kit::testing::{self, Backend};
use rapport_tests::{
    all_in_one,
    http::{curl, readme_example},
};
use serde_json::Value;

/// POSTs `body` as JSON to `path` with `key` (none for "").
fn post(url: &str, path: &str, key: &str, body: &str, extra: &[&str]) -> (u16, Value) {
    let auth = format!("Authorization: Bearer {key}");
    let target = format!("{url}{path}");
    let mut args = vec!["-H", "Content-Type: application/json", "-d", body];
    if !key.is_empty() {
        args.extend(["-H", auth.as_str()]);
    }
    args.extend(extra);
    args.push(&target);
    let (status, body) = curl(&args);
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    (status, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_readme_curl_block_prints_what_the_readme_says() {
    let suite = all_in_one::serving(testing::config(Backend::Sqlite).await).await;
    let (_, key) = all_in_one::tenant(&suite, "acme").await;
    // Only the address is the test's: the README's is `rapport up`'s default.
    let (block, expected) = readme_example("### JSON over HTTP", &suite.url());
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &block])
        .env("RAPPORT_API_KEY", &key)
        .output()
        .expect("bash");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    // The same ingest again is a duplicate, as the README says.
    let again = block.split("\necho\n").next().expect("the ingest");
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", again])
        .env("RAPPORT_API_KEY", &key)
        .output()
        .expect("bash");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{\"duplicates\":1}");
    suite.stop().await.expect("stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn errors_limits_and_the_openapi_document_over_http() {
    let suite = all_in_one::serving(testing::config(Backend::Sqlite).await).await;
    let (_, key) = all_in_one::tenant(&suite, "acme").await;
    let url = suite.url();
    let get_score = "/rapport.v1.ScoringService/GetScore";

    // A field refused: 400, the field named in the details.
    let (status, e) = post(&url, get_score, &key, r#"{"customerId":"nope"}"#, &[]);
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["code"], "invalid_argument");
    assert_eq!(e["details"][0]["type"], "google.rpc.BadRequest");
    assert_eq!(
        e["details"][0]["debug"]["fieldViolations"][0]["field"],
        "customer_id"
    );
    // A body that is not the message: an unknown field, then not JSON.
    let (status, e) = post(&url, get_score, &key, r#"{"customer":"x"}"#, &[]);
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("invalid_argument"))
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("field name 'customer'"),
        "{e}"
    );
    let (status, e) = post(&url, get_score, &key, "{", &[]);
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("invalid_argument"))
    );
    // No key, or another tenant's customer: the gRPC codes, as HTTP statuses.
    let (status, e) = post(&url, get_score, "", "{}", &[]);
    assert_eq!((status, e["code"].as_str()), (401, Some("unauthenticated")));
    let unknown = format!(r#"{{"customerId":"{}"}}"#, uuid::Uuid::new_v4());
    let (status, e) = post(&url, get_score, &key, &unknown, &[]);
    assert_eq!(
        (status, e["code"].as_str()),
        (404, Some("not_found")),
        "{e}"
    );
    // Streaming stays gRPC; a path that is no method is not served.
    let stream = "/rapport.v1.IngestionService/StreamTransactions";
    let (status, e) = post(&url, stream, &key, "{}", &[]);
    assert_eq!((status, e["code"].as_str()), (501, Some("unimplemented")));
    let (status, e) = post(&url, "/rapport.v1.ScoringService/Nope", &key, "{}", &[]);
    assert_eq!((status, e["code"].as_str()), (501, Some("unimplemented")));
    // A bad Connect timeout names the header.
    let (status, e) = post(
        &url,
        get_score,
        &key,
        "{}",
        &["-H", "Connect-Timeout-Ms: soon"],
    );
    assert_eq!(status, 400);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("connect-timeout-ms")
    );
    // A body past max_message_bytes is refused before it is parsed.
    let big = testing::fresh_dir().join("big.json");
    let filler = "x".repeat(suite.app.config.max_message_bytes + 1);
    std::fs::write(&big, format!(r#"{{"customerId":"{filler}"}}"#)).unwrap();
    let (status, e) = post(&url, get_score, &key, &format!("@{}", big.display()), &[]);
    assert_eq!(
        (status, e["code"].as_str()),
        (429, Some("resource_exhausted"))
    );

    assert!(e["message"].as_str().unwrap().contains("exceeds"), "{e}");
    // One within max_message_bytes whose parse would not fit the byte
    // budget (charged 16x) is refused as busy, before it is parsed.
    let budget = suite.app.config.inflight_bytes;
    let n = budget / rapport_kit::server::json::JSON_EXPANSION + 1;
    assert!(n < suite.app.config.max_message_bytes);
    let filler = "x".repeat(n);
    std::fs::write(&big, format!(r#"{{"customerId":"{filler}"}}"#)).unwrap();
    let (status, e) = post(&url, get_score, &key, &format!("@{}", big.display()), &[]);
    assert_eq!(
        (status, e["code"].as_str()),
        (429, Some("resource_exhausted"))
    );
    assert!(e["message"].as_str().unwrap().contains("JSON body"), "{e}");

    // HTTP/2 without TLS (prior knowledge), as Connect clients speak it.
    let settings = "/rapport.v1.ScoringService/GetScoringSettings";
    let (status, s) = post(&url, settings, &key, "{}", &["--http2-prior-knowledge"]);
    assert_eq!(status, 200, "{s}");
    assert!(s["settings"]["annualDiscountRate"].is_number(), "{s}");
    // Health without a key, for HTTP probes.
    let (status, h) = post(&url, "/grpc.health.v1.Health/Check", "", "{}", &[]);
    assert_eq!((status, h["status"].as_str()), (200, Some("SERVING")));

    // The document served is the generated one, with every unary method.
    let (status, served) = curl(&[&format!("{url}/openapi.json")]);
    assert_eq!(status, 200);
    let served: Value = serde_json::from_str(&served).unwrap();
    let pool = rapport_kit::server::json::pool();
    assert_eq!(served, rapport_kit::server::json::openapi::document(pool));
    let paths = served["paths"].as_object().unwrap();
    let mut unary = 0;
    for service in pool
        .services()
        .filter(|s| s.full_name().starts_with("rapport."))
    {
        for m in service.methods() {
            let path = rapport_kit::server::json::path_of(&m);
            let listed = paths.contains_key(&path);
            assert_eq!(listed, rapport_kit::server::json::is_unary(&m), "{path}");
            unary += usize::from(listed);
        }
    }
    assert!(unary >= 50, "{unary} unary methods");
    assert_eq!(
        served["components"]["securitySchemes"]["apiKey"]["scheme"],
        "bearer"
    );
    suite.stop().await.expect("stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn grpc_web_calls_answer_with_their_trailers_in_the_body() {
    use prost::Message as _;
    let suite = all_in_one::serving(testing::config(Backend::Sqlite).await).await;
    let (_, key) = all_in_one::tenant(&suite, "acme").await;
    // The empty request, framed: no compression, length 0.
    let request = testing::fresh_dir().join("empty.bin");
    std::fs::write(&request, [0u8; 5]).unwrap();
    let call = |path: &str, key: &str| -> Vec<u8> {
        let mut cmd = Command::new("curl");
        if key.is_empty() {
            // A refusal has no body: its status comes in the headers.
            cmd.args(["-D", "-"]);
        }
        cmd.args(["-s", "--http1.1", "--data-binary"])
            .arg(format!("@{}", request.display()))
            .args(["-H", "Content-Type: application/grpc-web+proto"])
            .args(["-H", "X-Grpc-Web: 1"]);
        if !key.is_empty() {
            cmd.args(["-H", &format!("Authorization: Bearer {key}")]);
        }
        let out = cmd.arg(format!("{}{path}", suite.url())).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        out.stdout
    };
    let body = call("/rapport.v1.ScoringService/GetScoringSettings", &key);
    // A data frame with the answer, then the trailers frame (flag 0x80).
    assert_eq!(body[0], 0, "{body:?}");
    let len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
    let answer = rapport_proto::v1::GetScoringSettingsResponse::decode(&body[5..5 + len]).unwrap();
    assert!(answer.settings.is_some());
    let trailers = &body[5 + len..];
    assert_eq!(trailers[0], 0x80);
    let text = String::from_utf8_lossy(&trailers[5..]).to_ascii_lowercase();
    assert!(text.contains("grpc-status:0"), "{text}");
    // Without a key: no answer, only the status (trailers-only).
    let refused = call("/rapport.v1.ScoringService/GetScoringSettings", "");
    let text = String::from_utf8_lossy(&refused).to_ascii_lowercase();
    assert!(text.contains("grpc-status: 16"), "{text}");
    suite.stop().await.expect("stopped");
}
