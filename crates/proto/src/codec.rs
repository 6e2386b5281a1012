//! The codec every generated Rapport client and server uses: prost's, except
//! that a message that does not decode is answered INVALID_ARGUMENT. Prost's
//! own codec answers INTERNAL, which tells a caller that sent malformed bytes
//! (invalid UTF-8 in a string, a truncated field, a wrong wire type) that the
//! server failed, and is what alerts and retries treat as a server fault.
//!
//! Before prost decodes a message, its decoded size is foreseen from its wire
//! bytes and schema (see [`MAX_DECODED_BYTES`]): a few bytes on the wire can
//! stand for an element that takes hundreds once decoded, at any depth. The
//! foreseen size is charged to the server's byte budget (see [`charge`]), so
//! what requests hold once decoded is bounded as well as what they sent.

use std::marker::PhantomData;

use prost::bytes::Buf;
use tonic::{
    Status,
    codec::{BufferSettings, Codec, DecodeBuf, Decoder},
};
use tonic_prost::ProstEncoder;

use self::shape::Schema;

pub mod charge;
mod shape;
#[cfg(test)]
mod tests;
mod walk;

/// The most bytes a message may take once decoded, as foreseen from its wire
/// bytes before decoding: each message element at its struct's size, each
/// repeated or map element 16 bytes more, strings at their length. The
/// largest valid requests, by the limits the services check after decoding:
///
/// - `IngestEvents`: 10,000 events of 50 properties each, about 37 MB;
/// - `UpsertCustomers`: 5,000 records of 100 attributes and a consent per
///   channel, about 43 MB;
/// - `IngestTransactions`: 10,000 rows, about 5 MB;
/// - `ApplyChanges`: 5,000 changes, about 2 MB;
///
/// (the codec's tests build them) and longer strings add at most the 16 MiB a
/// message may have on the wire. So 64 MiB holds every valid request, while
/// a 16 MiB message of empty nested elements (8 million of them, over a
/// gigabyte decoded) is refused.
pub const MAX_DECODED_BYTES: usize = 64 << 20;

/// Messages smaller than this are decoded without the walk or a charge: even
/// if all of them were empty elements of the largest type (about 1 KiB
/// decoded) they would decode to about 128 KiB, so the most requests a
/// server runs at once (512) hold at most 64 MiB that way, and the hot
/// path's tiny requests (a GetScore is under 100 bytes) pay nothing.
pub const WALK_FROM_BYTES: usize = 256;

/// Encodes `T` and decodes `U` with prost.
#[derive(Debug, Clone)]
pub struct ProstCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for ProstCodec<T, U> {
    fn default() -> Self {
        ProstCodec(PhantomData)
    }
}

impl<T, U> Codec for ProstCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + prost::Name + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = MessageDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        MessageDecoder::default()
    }
}

/// Decodes a prost message; malformed input is the caller's error.
#[derive(Debug)]
pub struct MessageDecoder<M>(PhantomData<fn() -> M>);

impl<M> Default for MessageDecoder<M> {
    fn default() -> Self {
        MessageDecoder(PhantomData)
    }
}

impl<M: prost::Message + prost::Name + Default> Decoder for MessageDecoder<M> {
    type Item = M;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<M>, Status> {
        let decoded = if src.remaining() >= WALK_FROM_BYTES {
            // One contiguous run (tonic buffers a message whole; taking it
            // out of its buffer does not copy it).
            let bytes = src.copy_to_bytes(src.remaining());
            let decoded = check_decoded_size::<M>(&bytes)?;
            charge::charge(bytes.len(), decoded)?;
            M::decode(bytes)
        } else {
            M::decode(src)
        };
        decoded
            .map(Some)
            .map_err(|e| Status::invalid_argument(format!("malformed message: {e}")))
    }
}

/// Foresees the bytes a message of type `M` will take once decoded, and
/// refuses one that would take more than [`MAX_DECODED_BYTES`] or that is
/// malformed.
pub fn check_decoded_size<M: prost::Name>(bytes: &[u8]) -> Result<usize, Status> {
    let schema = Schema::rapport();
    // Types from outside the descriptor set (none of Rapport's) are not
    // walked; they are taken at their wire size.
    let Some(ty) = schema.index(&M::full_name()) else {
        return Ok(bytes.len());
    };
    match walk::decoded_size(schema, ty, bytes, MAX_DECODED_BYTES) {
        Ok(Some(size)) => Ok(size),
        Ok(None) => Err(Status::invalid_argument(format!(
            "{} of {} bytes would take more than {MAX_DECODED_BYTES} bytes once decoded (the \
             decoded-size limit; no valid request needs as many elements): send fewer or larger \
             elements",
            M::NAME,
            bytes.len()
        ))),
        Err(e) => Err(Status::invalid_argument(format!("malformed message: {e}"))),
    }
}
