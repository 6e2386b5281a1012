//! Floats stored in JSON exactly. JSON parsers may land a decimal one unit in
//! the last place away from the float that printed it, and a fitted
//! parameter or breakpoint read back must equal the one computed (a score
//! on a breakpoint would otherwise flip). So floats are stored as their
//! shortest round-trip decimal in a string, which Rust parses exactly; plain
//! JSON numbers are accepted on reading.

use serde::{Deserialize, Deserializer, Serializer, de::Error};

#[derive(Deserialize)]
#[serde(untagged)]
enum Either {
    Text(String),
    Number(f64),
}

fn parse<E: Error>(e: Either) -> Result<f64, E> {
    match e {
        Either::Number(n) => Ok(n),
        Either::Text(t) => t.parse().map_err(E::custom),
    }
}

/// `#[serde(with = "crate::exact_float")]` for an `f64`.
pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

/// See [`serialize`].
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    parse(Either::deserialize(d)?)
}

/// An `f64` that stores exactly, for use inside collections.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Exact(pub f64);

impl serde::Serialize for Exact {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for Exact {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d).map(Exact)
    }
}

/// `#[serde(with = "crate::exact_float::map")]` for a map of names to `f64`.
pub mod map {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Exact;

    /// Serialises every value exactly.
    pub fn serialize<S: Serializer>(m: &BTreeMap<String, f64>, s: S) -> Result<S::Ok, S::Error> {
        let exact: BTreeMap<&String, Exact> = m.iter().map(|(k, v)| (k, Exact(*v))).collect();
        exact.serialize(s)
    }

    /// See [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
        let exact = BTreeMap::<String, Exact>::deserialize(d)?;
        Ok(exact.into_iter().map(|(k, v)| (k, v.0)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "super")]
        v: f64,
        list: Vec<Exact>,
    }

    #[test]
    fn floats_come_back_bit_for_bit() {
        let mut x = 0.1_f64;
        for _ in 0..2_000 {
            x = (x * 1.618_033_988_749_895 + 0.000_123_456_789).fract() * 1e3 + 1e-9;
            let t = T {
                v: x,
                list: vec![Exact(x / 7.0), Exact(-x * 1e-300)],
            };
            let back: T = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
            assert_eq!(back, t);
        }
        let plain: T = serde_json::from_str(r#"{"v": 0.25, "list": [1.5]}"#).unwrap();
        assert_eq!((plain.v, plain.list[0].0), (0.25, 1.5));
    }
}
