//! What the decoder needs to know of each message type to foresee how much a
//! message will take once decoded: which fields hold nested messages, strings
//! or repeated numbers, and roughly how large each decoded struct is. Built
//! once from the descriptor set compiled into this crate.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
};

use prost::Message;
use prost_types::{
    DescriptorProto, FileDescriptorSet,
    field_descriptor_proto::{Label, Type},
};

/// Bytes a string, bytes or `Vec` field takes inline (pointer, length, capacity).
const VEC_INLINE: usize = 24;
/// Bytes a map field takes inline (a `HashMap` with its hasher state).
const MAP_INLINE: usize = 48;
/// What an `Option<Box<_>>` takes inline, for a field whose type contains itself.
const BOXED_INLINE: usize = 8;

/// How one field of a message decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FieldShape {
    /// A nested message of the type at this index in [`Schema::messages`].
    /// Repeated and map fields allocate one element per occurrence; a
    /// singular one is inline in its parent and merged on repetition.
    Message { ty: usize, repeated: bool },
    /// A string or bytes: its length on the heap, plus a slot if repeated.
    Text { repeated: bool },
    /// A repeated number, bool or enum: packed, one byte of varint may
    /// decode to eight bytes; `fixed` ones decode to what they take on the wire.
    Numbers { fixed: bool },
}

/// One message type.
#[derive(Debug, Default)]
pub(super) struct MessageShape {
    /// Bytes the decoded struct takes inline, nested singular messages included.
    pub(super) size: usize,
    /// Fields that can allocate, sorted by number; others decode in place.
    pub(super) fields: Vec<(u32, FieldShape)>,
}

impl MessageShape {
    pub(super) fn field(&self, number: u32) -> Option<FieldShape> {
        self.fields
            .binary_search_by_key(&number, |(n, _)| *n)
            .ok()
            .map(|i| self.fields[i].1)
    }
}

/// Every message type of the descriptor set, by full name.
#[derive(Debug, Default)]
pub(super) struct Schema {
    pub(super) messages: Vec<MessageShape>,
    by_name: HashMap<String, usize>,
}

impl Schema {
    /// The schema of every Rapport message and of the well-known types they use.
    pub(super) fn rapport() -> &'static Arc<Schema> {
        static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
        SCHEMA.get_or_init(|| {
            let set = FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET)
                .expect("the compiled descriptor set decodes");
            Arc::new(Schema::new(&set))
        })
    }

    /// The index of the message called `full_name` (`package.Message`).
    pub(super) fn index(&self, full_name: &str) -> Option<usize> {
        self.by_name.get(full_name).copied()
    }

    pub(super) fn new(set: &FileDescriptorSet) -> Schema {
        let mut descriptors = Vec::new();
        for file in &set.file {
            let prefix = file.package().to_owned();
            for message in &file.message_type {
                collect(&prefix, message, &mut descriptors);
            }
        }
        let by_name: HashMap<String, usize> = descriptors
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.clone(), i))
            .collect();
        let mut messages: Vec<MessageShape> = descriptors
            .iter()
            .map(|(_, message)| MessageShape {
                size: 0,
                fields: fields(message, &by_name),
            })
            .collect();
        let mut sizes = vec![None; descriptors.len()];
        for i in 0..descriptors.len() {
            inline_size(i, &descriptors, &by_name, &mut sizes, &mut Vec::new());
        }
        for (shape, size) in messages.iter_mut().zip(sizes) {
            shape.size = size.unwrap_or(BOXED_INLINE);
        }
        Schema { messages, by_name }
    }
}

/// Lists a message and those nested in it under their full names.
fn collect<'a>(
    prefix: &str,
    message: &'a DescriptorProto,
    out: &mut Vec<(String, &'a DescriptorProto)>,
) {
    let name = if prefix.is_empty() {
        message.name().to_owned()
    } else {
        format!("{prefix}.{}", message.name())
    };
    for nested in &message.nested_type {
        collect(&name, nested, out);
    }
    out.push((name, message));
}

fn type_index(type_name: &str, by_name: &HashMap<String, usize>) -> Option<usize> {
    by_name.get(type_name.trim_start_matches('.')).copied()
}

fn fields(message: &DescriptorProto, by_name: &HashMap<String, usize>) -> Vec<(u32, FieldShape)> {
    let mut fields: Vec<(u32, FieldShape)> = message
        .field
        .iter()
        .filter_map(|f| {
            let repeated = f.label() == Label::Repeated;
            let shape = match f.r#type() {
                Type::Message | Type::Group => FieldShape::Message {
                    ty: type_index(f.type_name(), by_name)?,
                    repeated,
                },
                Type::String | Type::Bytes => FieldShape::Text { repeated },
                Type::Fixed32
                | Type::Sfixed32
                | Type::Float
                | Type::Fixed64
                | Type::Sfixed64
                | Type::Double
                    if repeated =>
                {
                    FieldShape::Numbers { fixed: true }
                }
                _ if repeated => FieldShape::Numbers { fixed: false },
                _ => return None,
            };
            Some((u32::try_from(f.number()).ok()?, shape))
        })
        .collect();
    fields.sort_by_key(|(n, _)| *n);
    fields
}

/// The inline size of message `i`: its fields, with singular nested messages
/// inline (prost boxes none but those that contain themselves).
fn inline_size(
    i: usize,
    descriptors: &[(String, &DescriptorProto)],
    by_name: &HashMap<String, usize>,
    sizes: &mut [Option<usize>],
    visiting: &mut Vec<usize>,
) -> usize {
    if let Some(size) = sizes[i] {
        return size;
    }
    if visiting.contains(&i) {
        return BOXED_INLINE;
    }
    visiting.push(i);
    let message = descriptors[i].1;
    let mut size = 0;
    for f in &message.field {
        let is_map = |ty: usize| {
            descriptors[ty]
                .1
                .options
                .as_ref()
                .is_some_and(|o| o.map_entry())
        };
        size += match (f.label(), f.r#type()) {
            (Label::Repeated, Type::Message) => match type_index(f.type_name(), by_name) {
                Some(ty) if is_map(ty) => MAP_INLINE,
                _ => VEC_INLINE,
            },
            (Label::Repeated, _) | (_, Type::String | Type::Bytes) => VEC_INLINE,
            (_, Type::Message | Type::Group) => match type_index(f.type_name(), by_name) {
                // The option's tag and padding.
                Some(ty) => inline_size(ty, descriptors, by_name, sizes, visiting) + 8,
                None => BOXED_INLINE,
            },
            (_, Type::Int64 | Type::Uint64 | Type::Sint64 | Type::Fixed64)
            | (_, Type::Sfixed64 | Type::Double) => 8,
            _ => 4,
        };
        if f.proto3_optional() {
            size += 4;
        }
    }
    visiting.pop();
    // Structs are padded to 8 bytes; even an empty one costs its allocation.
    let size = size.div_ceil(8).max(1) * 8;
    sizes[i] = Some(size);
    size
}
