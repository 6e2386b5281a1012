//! gRPC codecs whose responses are raw protobuf bytes: a server answering
//! with a message it already holds encoded (a cached score) skips decoding
//! and encoding it again, and a load generator measuring a server need not
//! decode what it receives. Requests stay typed prost messages.

use std::marker::PhantomData;

use bytes::{Buf, BufMut, Bytes};
use tonic::{
    Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
};

/// Decodes a prost message; malformed input is INVALID_ARGUMENT (shared with
/// every generated service).
pub use rapport_proto::codec::MessageDecoder;

/// Server side: decodes requests of type `Req`, sends responses given as
/// their encoded bytes.
#[derive(Debug)]
pub struct RawResponses<Req>(PhantomData<fn() -> Req>);

impl<Req> Default for RawResponses<Req> {
    fn default() -> Self {
        RawResponses(PhantomData)
    }
}

impl<Req: prost::Message + prost::Name + Default + Send + 'static> Codec for RawResponses<Req> {
    type Encode = Bytes;
    type Decode = Req;
    type Encoder = BytesEncoder;
    type Decoder = MessageDecoder<Req>;

    fn encoder(&mut self) -> Self::Encoder {
        BytesEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        MessageDecoder::default()
    }
}

/// Client side: encodes requests of type `Req`, hands responses back as
/// their bytes, undecoded.
#[derive(Debug)]
pub struct RawResponsesClient<Req>(PhantomData<fn() -> Req>);

impl<Req> Default for RawResponsesClient<Req> {
    fn default() -> Self {
        RawResponsesClient(PhantomData)
    }
}

impl<Req: prost::Message + Send + 'static> Codec for RawResponsesClient<Req> {
    type Encode = Req;
    type Decode = Bytes;
    type Encoder = MessageEncoder<Req>;
    type Decoder = BytesDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        MessageEncoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        BytesDecoder
    }
}

/// Sends and receives messages as their bytes, unchecked: what lets a load
/// generator or a test send a server anything at all.
#[derive(Debug, Default, Clone, Copy)]
pub struct RawBytes;

impl Codec for RawBytes {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = BytesEncoder;
    type Decoder = BytesDecoder;

    fn encoder(&mut self) -> BytesEncoder {
        BytesEncoder
    }

    fn decoder(&mut self) -> BytesDecoder {
        BytesDecoder
    }
}

/// Writes bytes as they are.
#[derive(Debug)]
pub struct BytesEncoder;

impl Encoder for BytesEncoder {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

/// Takes a message's bytes as they came.
#[derive(Debug)]
pub struct BytesDecoder;

impl Decoder for BytesDecoder {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// Encodes a prost message.
#[derive(Debug)]
pub struct MessageEncoder<M>(PhantomData<fn() -> M>);

impl<M: prost::Message> Encoder for MessageEncoder<M> {
    type Item = M;
    type Error = Status;

    fn encode(&mut self, item: M, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(format!("encoding a message: {e}")))
    }
}

/// Appends field `field` of wire type LEN holding `bytes` to `out`, as
/// prost would encode it: how a response is assembled around a message
/// that is already encoded.
pub fn put_len_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    prost::encoding::encode_key(field, prost::encoding::WireType::LengthDelimited, out);
    prost::encoding::encode_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// Appends varint field `field` holding `value` to `out` (nothing for 0, as
/// proto3 leaves defaults out).
pub fn put_varint_field(out: &mut Vec<u8>, field: u32, value: u64) {
    if value != 0 {
        prost::encoding::encode_key(field, prost::encoding::WireType::Varint, out);
        prost::encoding::encode_varint(value, out);
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    #[derive(Clone, PartialEq, prost::Message)]
    struct Inner {
        #[prost(string, tag = "1")]
        name: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    struct Outer {
        #[prost(message, optional, tag = "1")]
        inner: Option<Inner>,
        #[prost(int32, tag = "2")]
        source: i32,
        #[prost(message, repeated, tag = "3")]
        more: Vec<Inner>,
    }

    #[test]
    fn assembled_fields_decode_as_prost_encodes_them() {
        let a = Inner { name: "a".into() };
        let b = Inner {
            name: "b".repeat(300),
        };
        let mut out = Vec::new();
        put_len_field(&mut out, 1, &a.encode_to_vec());
        put_varint_field(&mut out, 2, 7);
        put_len_field(&mut out, 3, &b.encode_to_vec());
        put_len_field(&mut out, 3, &a.encode_to_vec());
        let expected = Outer {
            inner: Some(a.clone()),
            source: 7,
            more: vec![b, a],
        };
        assert_eq!(Outer::decode(out.as_slice()).unwrap(), expected);
        assert_eq!(out, expected.encode_to_vec());
        let mut zero = Vec::new();
        put_varint_field(&mut zero, 2, 0);
        assert!(zero.is_empty());
    }
}
