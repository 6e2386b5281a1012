//! How long what callers send may be, in bytes.

/// Longest dedupe key, in bytes.
pub const MAX_DEDUPE_KEY: usize = 200;
/// Longest webhook URL, in bytes.
pub const MAX_DESTINATION: usize = 2048;
/// Longest subject, in bytes.
pub const MAX_SUBJECT: usize = 256;
/// Longest body, in bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// Longest `data` value, in bytes.
pub const MAX_DATA_VALUE: usize = 1024;
/// Most `data` entries in one request: a template names at most as many
/// fields as fit in its 64 KiB body, and no real one needs more than this.
pub const MAX_DATA_ENTRIES: usize = 200;
/// Longest origin, in bytes.
pub const MAX_ORIGIN: usize = 256;
