//! The top-level fields of a protobuf message, counted as its bytes arrive.

/// What the next bytes of a protobuf message are.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum FieldState {
    #[default]
    Tag,
    Varint,
    Length,
    Skip,
}

/// Counts the top-level fields of a protobuf message as its bytes arrive,
/// without decoding or keeping any of them.
#[derive(Default)]
pub(super) struct FieldCursor {
    state: FieldState,
    value: u64,
    shift: u32,
    skip: u64,
    /// Fields begun so far.
    pub(super) count: usize,
}

impl FieldCursor {
    /// Walks the next bytes of the message.
    pub(super) fn feed(&mut self, mut data: &[u8]) {
        while let Some((&byte, rest)) = data.split_first() {
            if self.state == FieldState::Skip {
                let n = self.skip.min(data.len() as u64);
                self.skip -= n;
                data = &data[n as usize..];
                if self.skip == 0 {
                    self.state = FieldState::Tag;
                }
                continue;
            }
            data = rest;
            if self.shift < 64 {
                self.value |= u64::from(byte & 0x7f) << self.shift;
            }
            self.shift = self.shift.saturating_add(7);
            if byte & 0x80 != 0 {
                continue;
            }
            let value = std::mem::take(&mut self.value);
            self.shift = 0;
            self.state = match self.state {
                FieldState::Tag => {
                    self.count += 1;
                    match value & 7 {
                        0 => FieldState::Varint,
                        1 => self.skipping(8),
                        2 => FieldState::Length,
                        5 => self.skipping(4),
                        _ => FieldState::Tag,
                    }
                }
                FieldState::Length => self.skipping(value),
                FieldState::Varint | FieldState::Skip => FieldState::Tag,
            };
        }
    }

    fn skipping(&mut self, bytes: u64) -> FieldState {
        self.skip = bytes;
        if bytes == 0 {
            FieldState::Tag
        } else {
            FieldState::Skip
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_fields_are_counted_across_chunks() {
        // Field 1 varint 300, field 2 fixed64, field 3 a 3-byte string,
        // field 4 fixed32, field 5 an empty message.
        let message = [
            0x08, 0xac, 0x02, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x1a, 3, b'a', b'b', b'c', 0x25, 1, 2,
            3, 4, 0x2a, 0,
        ];
        for split in 0..message.len() {
            let mut cursor = FieldCursor::default();
            cursor.feed(&message[..split]);
            cursor.feed(&message[split..]);
            assert_eq!(cursor.count, 5, "split at {split}");
            assert_eq!(cursor.state, FieldState::Tag);
        }
    }
}
