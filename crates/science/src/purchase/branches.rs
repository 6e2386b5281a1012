//! The two-branch sum at the heart of the BG/NBD-family likelihoods: `ln(e^p + e^q)` for a
//! customer who is either still alive (`p`) or has dropped out (`q`), and the posterior
//! weight of each branch.

/// `ln(e^p + e^q) = hi + ln(1 + ratio)`, with the posterior weights of the two branches.
pub(crate) struct TwoBranches {
    /// The larger of `p` and `q`.
    pub hi: f64,
    /// `e^(lo - hi)`, in `(0, 1]`.
    pub ratio: f64,
    /// `e^p / (e^p + e^q)`.
    pub first: f64,
    /// `e^q / (e^p + e^q)`.
    pub second: f64,
}

/// The sum and weights from one exponential of the smaller term, so neither overflows.
#[inline]
pub(crate) fn two_branches(p: f64, q: f64) -> TwoBranches {
    let (hi, ratio) = if p >= q {
        (p, (q - p).exp())
    } else {
        (q, (p - q).exp())
    };
    let share = 1.0 / (1.0 + ratio);
    let (first, second) = if p >= q {
        (share, ratio * share)
    } else {
        (ratio * share, share)
    };
    TwoBranches {
        hi,
        ratio,
        first,
        second,
    }
}
