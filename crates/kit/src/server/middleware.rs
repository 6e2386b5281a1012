//! The tower plumbing every request middleware of the server shares: a
//! middleware says only what it does with one request and the ready inner
//! service; the layer and the service around it are written once here.

use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tower::{Layer, Service};

/// What a middleware answers a request with: the inner service's response or error, later.
pub type Answer<S, B> = BoxFuture<
    'static,
    Result<<S as Service<http::Request<B>>>::Response, <S as Service<http::Request<B>>>::Error>,
>;

/// What a middleware does with one request, given the inner service, ready
/// to take it.
pub trait Middleware<S, B>: Clone
where
    S: Service<http::Request<B>>,
{
    /// Handles `req`, calling `inner` or answering in its place.
    fn call(&self, inner: S, req: http::Request<B>) -> Answer<S, B>;
}

/// An inner service that answers with gRPC bodies and can be called from a
/// boxed future: what a middleware that may answer in its place wraps.
pub trait GrpcInner<B>:
    Service<http::Request<B>, Response = http::Response<tonic::body::Body>, Future: Send + 'static>
    + Send
    + 'static
{
}

impl<S, B> GrpcInner<B> for S where
    S: Service<
            http::Request<B>,
            Response = http::Response<tonic::body::Body>,
            Future: Send + 'static,
        > + Send
        + 'static
{
}

/// Tower layer running middleware `M` around every request.
#[derive(Clone, Debug)]
pub struct MiddlewareLayer<M> {
    middleware: M,
}

impl<M> MiddlewareLayer<M> {
    /// A layer running `middleware`.
    pub fn new(middleware: M) -> Self {
        MiddlewareLayer { middleware }
    }
}

impl<M: Clone, S> Layer<S> for MiddlewareLayer<M> {
    type Service = MiddlewareService<M, S>;
    fn layer(&self, inner: S) -> Self::Service {
        MiddlewareService {
            middleware: self.middleware.clone(),
            inner,
        }
    }
}

/// The service [`MiddlewareLayer`] produces.
#[derive(Clone, Debug)]
pub struct MiddlewareService<M, S> {
    middleware: M,
    inner: S,
}

impl<M, S, B> Service<http::Request<B>> for MiddlewareService<M, S>
where
    M: Middleware<S, B>,
    S: Service<http::Request<B>> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Answer<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        // The clone is not ready; the ready one is taken for this call.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        self.middleware.call(inner, req)
    }
}
