//! What tests read from a call's answer: the message of one that must succeed,
//! the rows a batch refused, and from a failed one's `tonic::Status` the
//! field violations of a bad request and the reason of its error info.

use tonic_types::StatusExt;

/// The field violations of an INVALID_ARGUMENT status, as (field,
/// description); fails on any other code or without bad-request details.
pub fn violations(status: &tonic::Status) -> Vec<(String, String)> {
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    status
        .get_error_details()
        .bad_request()
        .expect("bad request details")
        .field_violations
        .iter()
        .map(|v| (v.field.clone(), v.description.clone()))
        .collect()
}

/// The field paths named by the violations of an INVALID_ARGUMENT status.
pub fn bad_fields(status: &tonic::Status) -> Vec<String> {
    violations(status).into_iter().map(|(f, _)| f).collect()
}

/// The `ErrorInfo` reason of a status; empty when it has none.
pub fn reason(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .error_info()
        .map(|i| i.reason.clone())
        .unwrap_or_default()
}

/// The message of a call that must succeed, e.g.
/// `let list = ok(client.list_scores(request)).await;`; fails the test with
/// the status otherwise.
pub async fn ok<T>(
    call: impl std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> T {
    match call.await {
        Ok(response) => response.into_inner(),
        Err(status) => panic!("the call failed: {status:?}"),
    }
}

/// The rows a batch answer refused, as (index, field), e.g.
/// `assert_eq!(refused_rows(&resp.rejected), [(1, "customers[1].parent_external_id")])`.
pub fn refused_rows(rejected: &[rapport_proto::v1::RowError]) -> Vec<(u32, &str)> {
    rejected
        .iter()
        .map(|r| (r.index, r.field.as_str()))
        .collect()
}
