//! A BG/NBD model for tests across the crate.

use super::{BgNbd, BgNbdParams};

/// BG/NBD with parameters near the CDNOW estimates of Fader, Hardie & Lee (2005), in weeks.
pub(crate) fn cdnow() -> BgNbd {
    BgNbd::new(BgNbdParams {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    })
    .unwrap()
}
