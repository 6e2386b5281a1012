//! The two-branch sum at the heart of the BG/NBD-family likelihoods: `ln(e^p + e^q)` for a
//! customer who is either still alive (`p`) or has dropped out (`q`), and the posterior
//! weight of each branch.

/// `(hi, ratio, w_p, w_q)` with `ln(e^p + e^q) = hi + ln(1 + ratio)` (`hi` the larger term,
/// `ratio = e^(lo - hi)`), and the posterior weights `w_p = e^p / (e^p + e^q)` and
/// `w_q = e^q / (e^p + e^q)`; one exponential of the smaller term, so neither overflows.
#[inline]
pub(crate) fn two_branches(p: f64, q: f64) -> (f64, f64, f64, f64) {
    let (hi, ratio) = if p >= q {
        (p, (q - p).exp())
    } else {
        (q, (p - q).exp())
    };
    let share = 1.0 / (1.0 + ratio);
    let (w_p, w_q) = if p >= q {
        (share, ratio * share)
    } else {
        (ratio * share, share)
    };
    (hi, ratio, w_p, w_q)
}
