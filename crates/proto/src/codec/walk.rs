//! Foresees how many bytes a message will take once prost decodes it, from its
//! wire bytes and its schema, without decoding or allocating anything.
//!
//! Every byte is looked at once: a nested message is entered where it starts
//! and left where it ends, strings and numbers are stepped over by their
//! length, so the walk is linear in the message's size whatever its depth.

use super::shape::{FieldShape, Schema};

/// Nesting deeper than this is refused, as prost's own recursion limit does.
pub(super) const MAX_DEPTH: usize = 100;
/// What each element of a repeated or map field costs beyond its own size:
/// a `Vec` grows by doubling and a hash map keeps spare slots and a control
/// byte per slot.
pub(super) const ELEMENT_OVERHEAD: usize = 16;

/// Why a message cannot be walked: prost would refuse it as well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Malformed {
    Truncated,
    VarintTooLong,
    WireType(u64),
    UnmatchedGroupEnd,
    TooDeep,
    Oversized,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Malformed::Truncated => f.write_str("a field runs past the end of its message"),
            Malformed::VarintTooLong => f.write_str("a varint is longer than ten bytes"),
            Malformed::WireType(t) => write!(f, "unknown or misplaced wire type {t}"),
            Malformed::UnmatchedGroupEnd => f.write_str("a group ends where none began"),
            Malformed::TooDeep => write!(f, "nested more than {MAX_DEPTH} deep"),
            Malformed::Oversized => f.write_str("a length does not fit in memory"),
        }
    }
}

/// Where the walk is: inside a message of a known type, or inside a group of
/// an unknown field (which prost skips without keeping).
#[derive(Clone, Copy)]
enum Frame {
    Message { ty: usize, end: usize },
    Group { number: u32, end: usize },
}

impl Frame {
    fn end(self) -> usize {
        match self {
            Frame::Message { end, .. } | Frame::Group { end, .. } => end,
        }
    }
}

/// Adds up the decoded size of message type `ty` encoded as `bytes`, stopping
/// as soon as it passes `limit` (returns `Ok(None)` then).
pub(super) fn decoded_size(
    schema: &Schema,
    ty: usize,
    bytes: &[u8],
    limit: usize,
) -> Result<Option<usize>, Malformed> {
    let mut total = schema.messages[ty].size;
    let mut stack = vec![Frame::Message {
        ty,
        end: bytes.len(),
    }];
    let mut pos = 0;
    loop {
        // Leave every message that ends here.
        while let Some(&Frame::Message { end, .. }) = stack.last() {
            if pos < end {
                break;
            }
            stack.pop();
        }
        let Some(&frame) = stack.last() else {
            return Ok(Some(total));
        };
        if pos >= frame.end() {
            // Only a group reaches here: its end-group tag never came.
            return Err(Malformed::Truncated);
        }
        let key = varint(bytes, &mut pos, frame.end())?;
        let number = u32::try_from(key >> 3).map_err(|_| Malformed::WireType(key))?;
        let wire = key & 7;
        let shape = match frame {
            Frame::Message { ty, .. } => schema.messages[ty].field(number),
            Frame::Group { .. } => None,
        };
        match wire {
            0 => {
                varint(bytes, &mut pos, frame.end())?;
                if let Some(FieldShape::Numbers { .. }) = shape {
                    total += 8;
                }
            }
            1 | 5 => {
                let width = if wire == 1 { 8 } else { 4 };
                pos = step(pos, width, frame.end())?;
                if let Some(FieldShape::Numbers { .. }) = shape {
                    total += 8;
                }
            }
            2 => {
                let len = varint(bytes, &mut pos, frame.end())?;
                let len = usize::try_from(len).map_err(|_| Malformed::Oversized)?;
                let start = pos;
                pos = step(pos, len, frame.end())?;
                match shape {
                    Some(FieldShape::Message { ty, repeated }) => {
                        if repeated {
                            total += schema.messages[ty].size + ELEMENT_OVERHEAD;
                        }
                        if stack.len() >= MAX_DEPTH {
                            return Err(Malformed::TooDeep);
                        }
                        // Walk its fields next, from its first byte.
                        pos = start;
                        stack.push(Frame::Message {
                            ty,
                            end: start + len,
                        });
                    }
                    Some(FieldShape::Text { repeated }) => {
                        total += len + if repeated { 24 } else { 0 };
                    }
                    Some(FieldShape::Numbers { fixed }) => {
                        total += if fixed { len } else { len * 8 };
                    }
                    None => {}
                }
            }
            3 => {
                if stack.len() >= MAX_DEPTH {
                    return Err(Malformed::TooDeep);
                }
                let end = frame.end();
                stack.push(Frame::Group { number, end });
            }
            4 => match frame {
                Frame::Group { number: open, .. } if open == number => {
                    stack.pop();
                }
                _ => return Err(Malformed::UnmatchedGroupEnd),
            },
            _ => return Err(Malformed::WireType(wire)),
        }
        if total > limit {
            return Ok(None);
        }
    }
}

/// Reads a varint that must end before `end`.
fn varint(bytes: &[u8], pos: &mut usize, end: usize) -> Result<u64, Malformed> {
    let mut value = 0u64;
    for shift in (0..70).step_by(7) {
        if *pos >= end {
            return Err(Malformed::Truncated);
        }
        let byte = bytes[*pos];
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift.min(63);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(Malformed::VarintTooLong)
}

fn step(pos: usize, len: usize, end: usize) -> Result<usize, Malformed> {
    match pos.checked_add(len) {
        Some(next) if next <= end => Ok(next),
        _ => Err(Malformed::Truncated),
    }
}
