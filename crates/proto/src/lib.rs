//! Rapport's gRPC contracts (`package rapport.v1`), generated at build time.
#![forbid(unsafe_code)]
#![allow(clippy::large_enum_variant, missing_docs)]

/// `package rapport.v1`: messages, clients and servers.
pub mod v1 {
    tonic::include_proto!("rapport.v1");
}

/// The encoded `FileDescriptorSet` of every Rapport proto, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("rapport_descriptor");

pub use prost_types::Timestamp;
