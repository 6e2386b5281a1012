//! Request generators built from the message descriptors, so they reach
//! every field of every request, nested messages and maps included, and
//! follow a field added later without a change here.

use proptest::{collection::vec, prelude::*, sample::select};
use prost::Message;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, Value};

/// How deep generated messages nest.
const DEPTH: u32 = 4;

/// Strings a validator must cope with: empty, control characters, NUL,
/// bidi overrides, markup, SQL, paths, template tags, boundary lengths, huge
/// ones, anything unicode, and the ids and names of real data.
pub fn text(ids: &[String], big: bool) -> BoxedStrategy<String> {
    let special: Vec<String> = [
        "\0",
        "a\0b",
        "\u{202e}txe",
        "😀",
        "\u{feff}",
        "'; DROP TABLE customers; --",
        "%",
        "_",
        "\\",
        "../../etc/passwd",
        "{{",
        "}}",
        "{{customer.email}}",
        "{{#each x}}{{/each}}",
        "{{data.x}}",
        " ",
        "\n\r\t",
        "EUR",
        "XXX",
        "eur",
        "JPY",
        "2026-01-01",
        "9999-12-31",
        "1e308",
        "-0",
        "NaN",
        "-1",
        "99999999999999999999",
        "0.001",
        "00000000-0000-0000-0000-000000000000",
        "true",
        "score.net_spend > 0.0",
        "email_opened",
        "purchase",
        "http://127.0.0.1:1/x",
        "https://[::1]/",
        "file:///etc",
        "display_name",
        "attributes",
        "tiers",
        "annual_discount_rate",
    ]
    .into_iter()
    .map(String::from)
    .chain([
        "x".repeat(255),
        "x".repeat(256),
        "x".repeat(257),
        "x".repeat(1_001),
        "é".repeat(129),
        format!("{}\u{301}", "e".repeat(300)),
    ])
    .collect();
    let huge = prop_oneof![
        Just("x".repeat(70_000)),
        Just("{{data.x}}".repeat(6_600)),
        Just("é".repeat(600_000)),
        Just("y".repeat(5 << 20)),
    ];
    let mut choices: Vec<(u32, BoxedStrategy<String>)> = vec![
        (3, Just(String::new()).boxed()),
        (5, "[a-z0-9_.-]{1,12}".boxed()),
        (
            3,
            vec(any::<char>(), 0..40)
                .prop_map(String::from_iter)
                .boxed(),
        ),
        (
            2,
            vec(0u8..0x20, 1..8)
                .prop_map(|b| b.into_iter().map(char::from).collect::<String>())
                .boxed(),
        ),
        (4, select(special).boxed()),
    ];
    if big {
        choices.push((1, huge.boxed()));
    }
    if !ids.is_empty() {
        choices.push((5, select(ids.to_vec()).boxed()));
    }
    proptest::strategy::Union::new_weighted(choices).boxed()
}

fn int64() -> BoxedStrategy<i64> {
    prop_oneof![
        2 => select(vec![
            0, 1, -1, i64::MIN, i64::MAX, i64::from(i32::MIN), i64::from(i32::MAX),
            1_000_000_000_000_000, 1_000_000_000_000_001, -1_000_000_000_000_000,
            253_402_300_799, 253_402_300_800, -62_135_596_800, -62_135_596_801,
        ]),
        1 => any::<i64>(),
        1 => -1_000i64..100_000,
    ]
    .boxed()
}

fn double() -> BoxedStrategy<f64> {
    prop_oneof![
        2 => select(vec![
            0.0, -0.0, 1.0, -1.0, 0.5, 100.0, 1e308, -1e308, f64::NAN, f64::INFINITY,
            f64::NEG_INFINITY, f64::MIN_POSITIVE, f64::EPSILON, 1e-300,
        ]),
        1 => any::<f64>(),
        1 => -2.0f64..200.0,
    ]
    .boxed()
}

/// A value of a single (not repeated) field of `kind`; `big` allows huge
/// strings and long lists (not inside long lists, to bound a request's size).
fn single(kind: Kind, depth: u32, ids: &[String], big: bool) -> BoxedStrategy<Value> {
    match kind {
        Kind::String => text(ids, big).prop_map(Value::String).boxed(),
        Kind::Bytes => vec(any::<u8>(), 0..64)
            .prop_map(|b| Value::Bytes(b.into()))
            .boxed(),
        Kind::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Kind::Double => double().prop_map(Value::F64).boxed(),
        Kind::Float => double().prop_map(|d| Value::F32(d as f32)).boxed(),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => int64().prop_map(Value::I64).boxed(),
        Kind::Uint64 | Kind::Fixed64 => int64().prop_map(|v| Value::U64(v as u64)).boxed(),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            int64().prop_map(|v| Value::I32(v as i32)).boxed()
        }
        Kind::Uint32 | Kind::Fixed32 => int64().prop_map(|v| Value::U32(v as u32)).boxed(),
        Kind::Enum(e) => {
            let known: Vec<i32> = e.values().map(|v| v.number()).collect();
            prop_oneof![
                4 => select(known),
                1 => select(vec![-1, 99, i32::MAX, i32::MIN]),
            ]
            .prop_map(Value::EnumNumber)
            .boxed()
        }
        Kind::Message(m) => message(&m, depth.saturating_sub(1), 0.6, ids, big)
            .prop_map(Value::Message)
            .boxed(),
    }
}

fn map_key(kind: Kind, ids: &[String]) -> BoxedStrategy<MapKey> {
    match kind {
        Kind::String => text(ids, false).prop_map(MapKey::String).boxed(),
        Kind::Bool => any::<bool>().prop_map(MapKey::Bool).boxed(),
        Kind::Uint32 | Kind::Fixed32 => any::<u32>().prop_map(MapKey::U32).boxed(),
        Kind::Uint64 | Kind::Fixed64 => any::<u64>().prop_map(MapKey::U64).boxed(),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => int64().prop_map(MapKey::I64).boxed(),
        _ => any::<i32>().prop_map(MapKey::I32).boxed(),
    }
}

/// A value of `field`: one value, a list or a map as the field is declared.
fn field_value(
    field: &FieldDescriptor,
    depth: u32,
    ids: &[String],
    big: bool,
) -> BoxedStrategy<Value> {
    // Mostly a few entries; sometimes many of small ones, to find per-batch
    // limits.
    let count = move || {
        if big {
            prop_oneof![8 => 0usize..4, 1 => 100usize..1_200].boxed()
        } else {
            (0usize..4).boxed()
        }
    };
    if field.is_map() {
        let Kind::Message(entry) = field.kind() else {
            unreachable!("a map field's kind is its entry message")
        };
        let key = map_key(entry.map_entry_key_field().kind(), ids);
        let value = single(entry.map_entry_value_field().kind(), depth, ids, false);
        count()
            .prop_flat_map(move |n| vec((key.clone(), value.clone()), n))
            .prop_map(|pairs| Value::Map(pairs.into_iter().collect()))
            .boxed()
    } else if field.is_list() {
        let one = single(field.kind(), depth, ids, false);
        count()
            .prop_flat_map(move |n| vec(one.clone(), n))
            .prop_map(Value::List)
            .boxed()
    } else {
        single(field.kind(), depth, ids, big)
    }
}

/// A message of type `desc` with each field set with probability `density`
/// (Timestamps and Durations around the protobuf range's ends).
pub fn message(
    desc: &MessageDescriptor,
    depth: u32,
    density: f64,
    ids: &[String],
    big: bool,
) -> BoxedStrategy<DynamicMessage> {
    let desc = desc.clone();
    if matches!(
        desc.full_name(),
        "google.protobuf.Timestamp" | "google.protobuf.Duration"
    ) {
        return (int64(), int64())
            .prop_map(move |(seconds, nanos)| {
                let mut m = DynamicMessage::new(desc.clone());
                m.set_field_by_number(1, Value::I64(seconds));
                m.set_field_by_number(2, Value::I32(nanos as i32));
                m
            })
            .boxed();
    }
    if depth == 0 {
        return Just(DynamicMessage::new(desc)).boxed();
    }
    let fields: Vec<BoxedStrategy<Option<(u32, Value)>>> = desc
        .fields()
        .map(|f| {
            let number = f.number();
            proptest::option::weighted(density, field_value(&f, depth, ids, big))
                .prop_map(move |v| v.map(|v| (number, v)))
                .boxed()
        })
        .collect();
    fields
        .prop_map(move |values| {
            let mut m = DynamicMessage::new(desc.clone());
            for (number, value) in values.into_iter().flatten() {
                m.set_field_by_number(number, value);
            }
            m
        })
        .boxed()
}

/// Requests of `desc` for one RPC: the well-formed `seed` with a few fields
/// replaced (protobuf merges concatenated messages, so the generated fields
/// override the seed's and nested messages merge field by field), wholly
/// generated messages, and bytes that are not a valid message at all.
pub fn requests(desc: &MessageDescriptor, seed: Vec<u8>, ids: &[String]) -> BoxedStrategy<Vec<u8>> {
    let base = seed.clone();
    let mutated = message(desc, DEPTH, 0.15, ids, true).prop_map(move |m| {
        let mut bytes = base.clone();
        bytes.extend(m.encode_to_vec());
        bytes
    });
    let generated = message(desc, DEPTH, 0.5, ids, true).prop_map(|m| m.encode_to_vec());
    let corrupt =
        (any::<prop::sample::Index>(), any::<u8>(), 0u8..3).prop_map(move |(at, byte, how)| {
            let mut bytes = seed.clone();
            if bytes.is_empty() {
                return vec![byte];
            }
            let i = at.index(bytes.len());
            match how {
                0 => bytes.truncate(i),
                1 => bytes[i] ^= byte | 1,
                _ => bytes.insert(i, byte),
            }
            bytes
        });
    prop_oneof![
        6 => mutated,
        2 => generated,
        1 => corrupt,
        1 => vec(any::<u8>(), 0..200),
    ]
    .boxed()
}

/// What a request decodes to, for a failure report.
pub fn describe(desc: &MessageDescriptor, bytes: &[u8]) -> String {
    let shown = |s: String| s.chars().take(2_000).collect::<String>();
    match DynamicMessage::decode(desc.clone(), bytes) {
        Ok(m) => shown(m.to_string()),
        Err(_) => shown(format!("undecodable bytes {bytes:?}")),
    }
}
