//! The whole-request timeout, kept by the server rather than by tonic so that
//! client streams can go without it: a stream of a million rows takes longer
//! than any sensible unary deadline, so its handler bounds the wait for each
//! message instead (see [`crate::config::Config::stream_idle_timeout_ms`]).
//! A client's own `grpc-timeout` still applies to every call (tonic keeps it).
//! Whole-tenant work asked for explicitly (a model fit) gets the longer
//! `long_request_timeout_ms` instead: its time grows with the tenant.

use std::{collections::HashSet, sync::Arc, time::Duration};

use tonic::{Status, body::Body};

use super::middleware::{Answer, GrpcInner, Middleware};

/// Middleware answering DEADLINE_EXCEEDED once a request has taken longer
/// than the server's timeout, except on the client-streaming methods it was
/// given, and after the long timeout on the long methods.
#[derive(Clone, Debug)]
pub struct Deadline {
    timeout: Duration,
    streams: Arc<HashSet<&'static str>>,
    long_timeout: Duration,
    long: Arc<HashSet<&'static str>>,
}

impl Deadline {
    /// Times out every request after `timeout` except those to `streams`
    /// (paths such as `/rapport.v1.IngestionService/StreamTransactions`),
    /// and those to `long` after `long_timeout`.
    pub fn new(
        timeout: Duration,
        streams: impl IntoIterator<Item = &'static str>,
        long_timeout: Duration,
        long: impl IntoIterator<Item = &'static str>,
    ) -> Self {
        Deadline {
            timeout,
            streams: Arc::new(streams.into_iter().collect()),
            long_timeout,
            long: Arc::new(long.into_iter().collect()),
        }
    }
}

impl<S: GrpcInner<Body>> Middleware<S, Body> for Deadline {
    fn call(&self, mut inner: S, req: http::Request<Body>) -> Answer<S, Body> {
        let path = req.uri().path();
        if self.streams.contains(path) {
            return Box::pin(inner.call(req));
        }
        let timeout = if self.long.contains(path) {
            self.long_timeout
        } else {
            self.timeout
        };
        Box::pin(async move {
            match tokio::time::timeout(timeout, inner.call(req)).await {
                Ok(res) => res,
                Err(_) => Ok(Status::deadline_exceeded(format!(
                    "the request took longer than the server's {} ms",
                    timeout.as_millis()
                ))
                .into_http()),
            }
        })
    }
}
