//! The codec every generated Rapport client and server uses: prost's, except
//! that a message that does not decode is answered INVALID_ARGUMENT. Prost's
//! own codec answers INTERNAL, which tells a caller that sent malformed bytes
//! (invalid UTF-8 in a string, a truncated field, a wrong wire type) that the
//! server failed, and is what alerts and retries treat as a server fault.

use std::marker::PhantomData;

use tonic::{
    Status,
    codec::{BufferSettings, Codec, DecodeBuf, Decoder},
};
use tonic_prost::ProstEncoder;

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
    U: prost::Message + Default + Send + 'static,
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

impl<M: prost::Message + Default> Decoder for MessageDecoder<M> {
    type Item = M;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<M>, Status> {
        M::decode(src)
            .map(Some)
            .map_err(|e| Status::invalid_argument(format!("malformed message: {e}")))
    }
}
