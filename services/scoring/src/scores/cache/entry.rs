//! What a cache entry holds: the stored score as published (a `Score`
//! message) or an [`Envelope`], the same stored score plus the response a
//! reader computed from it, encoded, and what that response depends on.
//! Readers serve an envelope's response bytes as they are.

use prost::Message;
use rapport_proto::v1::Score;
use uuid::Uuid;

/// How many Redis Cluster hash tags a tenant's scores are spread over.
pub const BUCKETS: u8 = 16;

/// The cache key of a customer's score:
/// `{prefix}:{{tenant}:{bucket}}:score:{customer}`, the bucket a hex digit
/// from the customer id's last byte. The braces are a Redis Cluster hash
/// tag: a tenant's scores spread over [`BUCKETS`] slots, so one busy tenant
/// is not one busy shard, and a batch read needs a pipeline per bucket at
/// most.
pub fn key(prefix: &str, tenant: Uuid, customer: Uuid) -> String {
    let bucket = customer.as_bytes()[15] % BUCKETS;
    format!("{prefix}:{{{tenant}:{bucket:x}}}:score:{customer}")
}

/// Decodes a cached score; `None` (a miss) for bytes that do not decode.
fn decode(bytes: &[u8]) -> Option<Score> {
    match Score::decode(bytes) {
        Ok(score) => Some(score),
        Err(e) => {
            tracing::warn!(error = %e, "undecodable cached score; reading the database");
            None
        }
    }
}

/// A cache entry.
#[derive(Debug)]
pub enum Cached {
    /// The stored score as published.
    Plain(Box<Score>),
    /// The stored score with a response computed from it.
    Enriched(Envelope),
}

/// First byte of an envelope. A protobuf message never starts with it
/// (field number 0 does not exist), so envelopes and plain scores tell
/// themselves apart.
const ENVELOPE: u8 = 0x01;
/// Marker, state, day, last purchase, recency, response length.
pub(super) const HEADER: usize = 1 + 8 + 8 + 8 + 4 + 4;

/// What a computed response depends on besides the score's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    /// The tenant state's fingerprint.
    pub state: u64,
    /// The UTC day number.
    pub day: i64,
    /// The last purchase (microseconds), to recompute recency from.
    pub last_purchase_micros: Option<i64>,
    /// The recency the response shows.
    pub recency_days: u32,
}

/// A stored score and the response computed from it, in one buffer:
/// header, response bytes (a `Score` as served), stored bytes (a `Score`
/// with its basis).
#[derive(Debug)]
pub struct Envelope(Vec<u8>);

impl Envelope {
    /// The bytes of an envelope.
    pub fn build(tag: Tag, response: &[u8], stored: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + response.len() + stored.len());
        out.push(ENVELOPE);
        out.extend_from_slice(&tag.state.to_le_bytes());
        out.extend_from_slice(&tag.day.to_le_bytes());
        out.extend_from_slice(&tag.last_purchase_micros.unwrap_or(i64::MIN).to_le_bytes());
        out.extend_from_slice(&tag.recency_days.to_le_bytes());
        out.extend_from_slice(&(response.len() as u32).to_le_bytes());
        out.extend_from_slice(response);
        out.extend_from_slice(stored);
        out
    }

    fn parse(bytes: Vec<u8>) -> Option<Envelope> {
        if bytes.len() < HEADER || bytes[0] != ENVELOPE {
            return None;
        }
        let len = u32::from_le_bytes(bytes[29..33].try_into().ok()?) as usize;
        (HEADER + len <= bytes.len()).then_some(Envelope(bytes))
    }

    fn field<const N: usize>(&self, at: usize) -> [u8; N] {
        self.0[at..at + N].try_into().unwrap_or([0; N])
    }

    /// What the response was computed for.
    pub fn tag(&self) -> Tag {
        let last = i64::from_le_bytes(self.field(17));
        Tag {
            state: u64::from_le_bytes(self.field(1)),
            day: i64::from_le_bytes(self.field(9)),
            last_purchase_micros: (last != i64::MIN).then_some(last),
            recency_days: u32::from_le_bytes(self.field(25)),
        }
    }

    fn response_len(&self) -> usize {
        u32::from_le_bytes(self.field(29)) as usize
    }

    /// The response: an encoded `Score` without its basis.
    pub fn response(&self) -> &[u8] {
        &self.0[HEADER..HEADER + self.response_len()]
    }

    /// The stored score, to compute the response again from.
    pub fn stored(&self) -> Option<Score> {
        decode(&self.0[HEADER + self.response_len()..])
    }
}

impl Cached {
    pub(super) fn parse(bytes: Vec<u8>) -> Option<Cached> {
        if bytes.first() == Some(&ENVELOPE) {
            let parsed = Envelope::parse(bytes).map(Cached::Enriched);
            if parsed.is_none() {
                tracing::warn!("malformed cached score envelope; reading the database");
            }
            return parsed;
        }
        decode(&bytes).map(|s| Cached::Plain(Box::new(s)))
    }
}
