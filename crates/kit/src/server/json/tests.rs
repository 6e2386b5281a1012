use tonic_types::StatusExt as _;

use super::*;

#[test]
fn every_grpc_code_has_the_connect_name_and_http_status() {
    let expected = [
        (Code::InvalidArgument, "invalid_argument", 400),
        (Code::FailedPrecondition, "failed_precondition", 400),
        (Code::Unauthenticated, "unauthenticated", 401),
        (Code::PermissionDenied, "permission_denied", 403),
        (Code::NotFound, "not_found", 404),
        (Code::AlreadyExists, "already_exists", 409),
        (Code::ResourceExhausted, "resource_exhausted", 429),
        (Code::Cancelled, "canceled", 499),
        (Code::Internal, "internal", 500),
        (Code::Unimplemented, "unimplemented", 501),
        (Code::Unavailable, "unavailable", 503),
        (Code::DeadlineExceeded, "deadline_exceeded", 504),
    ];
    for (code, name, status) in expected {
        assert_eq!(code_name(code), name);
        assert_eq!(http_status(code).as_u16(), status, "{name}");
    }
}

#[test]
fn the_json_exchange_headers_are_not_passed_on_and_the_timeout_is_grpcs() {
    let mut from = HeaderMap::new();
    from.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    from.insert(header::CONTENT_LENGTH, HeaderValue::from_static("12"));
    from.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer k"));
    from.insert("connect-protocol-version", HeaderValue::from_static("1"));
    from.insert("connect-timeout-ms", HeaderValue::from_static("1500"));
    let headers = grpc_headers(&from).unwrap();
    assert_eq!(headers[header::CONTENT_TYPE], "application/grpc");
    assert_eq!(headers[header::AUTHORIZATION], "Bearer k");
    assert_eq!(headers["grpc-timeout"], "1500m");
    assert!(headers.get(header::CONTENT_LENGTH).is_none());
    assert!(headers.get("connect-protocol-version").is_none());

    for bad in ["0", "-5", "soon", "100000000"] {
        from.insert("connect-timeout-ms", HeaderValue::from_static(bad));
        let e = grpc_headers(&from).unwrap_err();
        assert_eq!(e.code, Code::InvalidArgument, "{bad}");
        assert!(e.message.contains("connect-timeout-ms"), "{bad}");
    }
}

#[test]
fn field_violations_come_back_readable() {
    let status = tonic::Status::with_error_details(
        Code::InvalidArgument,
        "invalid argument",
        tonic_types::ErrorDetails::with_bad_request_violation("customer_id", "required"),
    );
    let e = status_of(status.into_http::<()>().headers()).expect("an error");
    assert_eq!(e.code, Code::InvalidArgument);
    assert_eq!(e.details.len(), 1);
    assert_eq!(e.details[0]["type"], "google.rpc.BadRequest");
    assert_eq!(
        e.details[0]["debug"]["fieldViolations"][0],
        serde_json::json!({ "field": "customer_id", "description": "required" })
    );
    assert!(status_of(tonic::Status::ok("").into_http::<()>().headers()).is_none());
}

#[test]
fn a_body_that_is_not_the_request_message_names_it() {
    let desc = pool()
        .get_message_by_name("rapport.v1.GetScoreRequest")
        .expect("in the pool");
    assert!(parse(desc.clone(), b"  \n").is_ok(), "empty is the default");
    let ok = parse(desc.clone(), br#"{"customerId":"c1"}"#).unwrap();
    assert_eq!(
        ok.get_field_by_name("customer_id").unwrap().as_str(),
        Some("c1")
    );
    for bad in [
        &br#"{"customerId":"c1"} trailing"#[..],
        br#"{"noSuchField":1}"#,
        b"[1,2]",
    ] {
        let e = parse(desc.clone(), bad).unwrap_err();
        assert_eq!(e.code, Code::InvalidArgument);
        assert!(
            e.message.contains("rapport.v1.GetScoreRequest"),
            "{}",
            e.message
        );
    }
}
