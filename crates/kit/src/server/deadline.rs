//! The whole-request timeout, kept by the server rather than by tonic so that
//! client streams can go without it: a stream of a million rows takes longer
//! than any sensible unary deadline, so its handler bounds the wait for each
//! message instead (see [`crate::config::Config::stream_idle_timeout_ms`]).
//! A client's own `grpc-timeout` still applies to every call (tonic keeps it).

use std::{collections::HashSet, sync::Arc, time::Duration};

use tonic::{Status, body::Body};

use super::middleware::{Answer, GrpcInner, Middleware};

/// Middleware answering DEADLINE_EXCEEDED once a request has taken longer
/// than the server's timeout, except on the client-streaming methods it was
/// given.
#[derive(Clone, Debug)]
pub struct Deadline {
    timeout: Duration,
    streams: Arc<HashSet<&'static str>>,
}

impl Deadline {
    /// Times out every request after `timeout` except those to `streams`
    /// (paths such as `/rapport.v1.IngestionService/StreamTransactions`).
    pub fn new(timeout: Duration, streams: impl IntoIterator<Item = &'static str>) -> Self {
        Deadline {
            timeout,
            streams: Arc::new(streams.into_iter().collect()),
        }
    }
}

impl<S: GrpcInner<Body>> Middleware<S, Body> for Deadline {
    fn call(&self, mut inner: S, req: http::Request<Body>) -> Answer<S, Body> {
        if self.streams.contains(req.uri().path()) {
            return Box::pin(inner.call(req));
        }
        let timeout = self.timeout;
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
