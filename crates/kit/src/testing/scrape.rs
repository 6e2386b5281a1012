//! A scrape of a `/metrics` endpoint, parsed: each sample's name, labels and
//! value, looked up by name and a subset of labels.

use std::collections::BTreeMap;

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The metric name (with any `_total`, `_bucket`, `_sum`, `_count`).
    pub name: String,
    /// Its labels, unescaped.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

/// A parsed scrape, with the `# TYPE` of each metric family.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    /// Every sample, in order.
    pub samples: Vec<Sample>,
    /// Family name to its type (`counter`, `gauge`, `histogram`).
    pub types: BTreeMap<String, String>,
}

impl Scrape {
    /// Parses Prometheus text (version 0.0.4); panics, naming the line, on
    /// anything malformed.
    pub fn parse(text: &str) -> Scrape {
        let mut scrape = Scrape::default();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
                scrape.types.insert(name.to_owned(), kind.to_owned());
                continue;
            }
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            scrape.samples.push(sample(line));
        }
        scrape
    }

    /// GETs `http://{addr}/metrics` (plain HTTP/1.1) and parses it; panics
    /// unless it answers 200 with the Prometheus text content type.
    pub async fn get(addr: std::net::SocketAddr) -> Scrape {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("metrics endpoint");
        let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await.expect("read");
        let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP response");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: text/plain; version=0.0.4"),
            "{head}"
        );
        Scrape::parse(body)
    }

    /// The value of the one sample named `name` whose labels include
    /// `labels`; `None` when there is none, a panic when there are several.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let found: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect();
        assert!(found.len() <= 1, "several {name} {labels:?}: {found:?}");
        found.first().map(|s| s.value)
    }

    /// As [`Scrape::value`], 0 when absent (a counter not yet incremented).
    pub fn count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels).unwrap_or(0.0)
    }
}

fn sample(line: &str) -> Sample {
    let bad = || -> ! { panic!("malformed sample line: {line:?}") };
    let mut chars = line.chars().peekable();
    let mut name = String::new();
    while let Some(&c) = chars.peek() {
        if c == '{' || c == ' ' {
            break;
        }
        name.push(c);
        chars.next();
    }
    let mut labels = BTreeMap::new();
    if chars.peek() == Some(&'{') {
        chars.next();
        loop {
            match chars.peek() {
                Some('}') => {
                    chars.next();
                    break;
                }
                None => bad(),
                _ => {}
            }
            let mut key = String::new();
            loop {
                match chars.next() {
                    Some('=') => break,
                    Some(c) => key.push(c),
                    None => bad(),
                }
            }
            if chars.next() != Some('"') {
                bad();
            }
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some('\\') => match chars.next() {
                        Some('n') => value.push('\n'),
                        Some(c @ ('\\' | '"')) => value.push(c),
                        _ => bad(),
                    },
                    Some('"') => break,
                    Some(c) => value.push(c),
                    None => bad(),
                }
            }
            labels.insert(key, value);
            match chars.next() {
                Some(',') => continue,
                Some('}') => break,
                _ => bad(),
            }
        }
    }
    let rest: String = chars.collect();
    let value = match rest.trim() {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap_or_else(|_| bad()),
    };
    Sample {
        name,
        labels,
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_parse_with_escaped_labels() {
        let s = Scrape::parse(
            "# HELP x_total X.\n# TYPE x_total counter\n\
             x_total{a=\"q\\\"u,o}te\",b=\"back\\\\slash\\n\"} 3\n\
             y 1.5\nz{le=\"+Inf\"} +Inf\n",
        );
        assert_eq!(s.types["x_total"], "counter");
        assert_eq!(s.value("x_total", &[("a", "q\"u,o}te")]), Some(3.0));
        assert_eq!(s.value("x_total", &[("b", "back\\slash\n")]), Some(3.0));
        assert_eq!(s.value("y", &[]), Some(1.5));
        assert_eq!(s.value("z", &[("le", "+Inf")]), Some(f64::INFINITY));
        assert_eq!(s.count("missing", &[]), 0.0);
    }
}
