//! Any RPC of the suite called by name with encoded bytes, the list of those
//! RPCs read from the released descriptors (so a test walking them all cannot
//! miss one added later), and the request each takes.

use std::time::Duration;

use bytes::Bytes;
use prost_reflect::{DescriptorPool, MessageDescriptor};
use rapport_kit::codec::RawBytes;
use tonic::{Status, metadata::MetadataValue, transport::Channel};

/// One RPC of the suite.
#[derive(Debug, Clone)]
pub struct Method {
    /// `Service/Method`, e.g. `ProfilesService/GetCustomer`.
    pub name: String,
    /// The HTTP/2 path, `/rapport.v1.ProfilesService/GetCustomer`.
    pub path: String,
    /// The request message.
    pub input: MessageDescriptor,
    /// The response message.
    pub output: MessageDescriptor,
    /// True when the client sends a stream of requests.
    pub client_streaming: bool,
    /// True when the server answers with a stream of responses.
    pub server_streaming: bool,
}

/// The descriptors of every Rapport message.
pub fn pool() -> DescriptorPool {
    DescriptorPool::decode(rapport_proto::FILE_DESCRIPTOR_SET).expect("rapport descriptors")
}

/// Every RPC of every Rapport service, in the order the protos declare them.
pub fn methods() -> Vec<Method> {
    let pool = pool();
    let mut all = Vec::new();
    for service in pool.services() {
        for m in service.methods() {
            all.push(Method {
                name: format!("{}/{}", service.name(), m.name()),
                path: format!("/{}/{}", service.full_name(), m.name()),
                input: m.input(),
                output: m.output(),
                client_streaming: m.is_client_streaming(),
                server_streaming: m.is_server_streaming(),
            });
        }
    }
    all
}

/// [`methods`], deletions last, so that a walk over them finds the data the
/// others aim at still there.
pub fn methods_deletions_last() -> Vec<Method> {
    let mut all = methods();
    all.sort_by_key(|m| m.name.contains("/Delete") || m.name.contains("/Erase"));
    all
}

/// Calls RPCs by path with a tenant's API key.
#[derive(Clone)]
pub struct Caller {
    grpc: tonic::client::Grpc<Channel>,
    authorization: MetadataValue<tonic::metadata::Ascii>,
}

impl Caller {
    /// A caller of the server at `url` presenting `api_key`; each call gives
    /// up after `timeout`.
    pub fn new(url: &str, api_key: &str, timeout: Duration) -> Caller {
        let channel = rapport_kit::internal::lazy_channel(url, timeout).expect("channel");
        Caller {
            grpc: tonic::client::Grpc::new(channel)
                .max_encoding_message_size(64 << 20)
                .max_decoding_message_size(64 << 20),
            authorization: format!("Bearer {api_key}").parse().expect("ascii key"),
        }
    }

    /// Sends `messages` (exactly one unless the method takes a stream) to
    /// `method` and returns the response's bytes: of a server stream, its
    /// first response (the stream is then dropped, cancelling the call).
    pub async fn call(&self, method: &Method, messages: Vec<Bytes>) -> Result<Bytes, Status> {
        let mut grpc = self.grpc.clone();
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(format!("not ready: {e}")))?;
        let path = method.path.parse().expect("method path");
        let answer = if method.server_streaming {
            let message = messages.into_iter().next().unwrap_or_default();
            let mut request = tonic::Request::new(message);
            self.authorize(&mut request);
            let mut stream = grpc.server_streaming(request, path, RawBytes).await?;
            let first = stream.get_mut().message().await?;
            stream.map(|_| first.unwrap_or_default())
        } else if method.client_streaming {
            let mut request = tonic::Request::new(tokio_stream::iter(messages));
            self.authorize(&mut request);
            grpc.client_streaming(request, path, RawBytes).await?
        } else {
            let message = messages.into_iter().next().unwrap_or_default();
            let mut request = tonic::Request::new(message);
            self.authorize(&mut request);
            grpc.unary(request, path, RawBytes).await?
        };
        Ok(answer.into_inner())
    }

    fn authorize<T>(&self, request: &mut tonic::Request<T>) {
        request
            .metadata_mut()
            .insert("authorization", self.authorization.clone());
    }
}
