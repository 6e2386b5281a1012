//! Rapport's gRPC contracts (`package rapport.v1`), generated at build time.
#![forbid(unsafe_code)]
#![allow(clippy::large_enum_variant, missing_docs)]

pub mod codec;

/// `package rapport.v1`: messages, clients and servers.
pub mod v1 {
    tonic::include_proto!("rapport.v1");
}

/// The encoded `FileDescriptorSet` of every Rapport proto, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("rapport_descriptor");

pub use prost_types::Timestamp;

/// Message size limits both sides of a call are built with, so what a client
/// sends is always within what the server decodes.
pub mod limits {
    /// The largest `ApplyChanges` request scoring decodes.
    pub const APPLY_CHANGES_MAX_BYTES: usize = 4 << 20;
    /// The most bytes of changes the outbox relay puts in one `ApplyChanges`
    /// call: a quarter of [`APPLY_CHANGES_MAX_BYTES`], so a batch that goes
    /// over it by one change (the largest ingestion accepts is about 60 KiB)
    /// still decodes.
    pub const APPLY_CHANGES_BATCH_BYTES: usize = 1 << 20;
    /// The largest request notifications, rules and the tenants' key
    /// service decode. Their largest valid requests are far smaller: a send
    /// or preview carries at most a 64 KiB body and 200 data values of
    /// 1 KiB, a template a 64 KiB body, a rule a few KiB. Ingestion and
    /// profiles decode `max_message_bytes` instead, as their batches need.
    pub const CONTROL_MAX_BYTES: usize = 1 << 20;
}
