//! Opaque page tokens and page sizes for `page_size`/`page_token` lists.

/// Page size used when the request leaves it at 0.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Largest page served.
pub const MAX_PAGE_SIZE: u32 = 1_000;

/// The page size to serve: the default for 0, refused when negative,
/// capped at [`MAX_PAGE_SIZE`].
pub fn page_size(requested: i32) -> Result<u32, String> {
    match requested {
        0 => Ok(DEFAULT_PAGE_SIZE),
        n if n < 0 => Err("must not be negative".to_owned()),
        n => Ok((n as u32).min(MAX_PAGE_SIZE)),
    }
}

/// Encodes a cursor (the last key served) as an opaque token.
pub fn encode_token(cursor: &str) -> String {
    hex::encode(cursor.as_bytes())
}

/// Decodes a token made by [`encode_token`]; `None` for the first page.
pub fn decode_token(token: &str) -> Result<Option<String>, String> {
    if token.is_empty() {
        return Ok(None);
    }
    hex::decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .map(Some)
        .ok_or_else(|| "is not a page token this service issued".to_owned())
}

/// The token of a page ordered by (time, id) whose last row is (`at`, `id`).
pub fn encode_time_id(at: chrono::DateTime<chrono::Utc>, id: uuid::Uuid) -> String {
    encode_token(&format!("{}|{id}", crate::domain::to_micros(at)))
}

/// Decodes a token made by [`encode_time_id`]; `None` for the first page.
pub fn decode_time_id(
    token: &str,
) -> Result<Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>, String> {
    let Some(cursor) = decode_token(token)? else {
        return Ok(None);
    };
    cursor
        .split_once('|')
        .and_then(|(micros, id)| {
            let micros: i64 = micros.parse().ok()?;
            Some((crate::domain::from_micros(micros), id.parse().ok()?))
        })
        .map(Some)
        .ok_or_else(|| "is not a page token".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        assert_eq!(
            decode_token(&encode_token("abc|12")).unwrap().as_deref(),
            Some("abc|12")
        );
        assert_eq!(decode_token("").unwrap(), None);
        assert!(decode_token("zz").is_err());
        assert_eq!(page_size(0), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(page_size(5000), Ok(MAX_PAGE_SIZE));
        assert!(page_size(-1).is_err());
        let at = crate::domain::from_micros(1_700_000_000_123_456);
        let id = uuid::Uuid::new_v4();
        assert_eq!(decode_time_id(&encode_time_id(at, id)), Ok(Some((at, id))));
        assert_eq!(decode_time_id(""), Ok(None));
        assert!(decode_time_id(&encode_token("no bar")).is_err());
    }
}
