//! Percentiles of sorted data, shared by RFM breakpoints and tier thresholds so both cut a
//! population the same way.

/// Percentile of sorted data by linear interpolation between order statistics (Hyndman &
/// Fan 1996, definition 7, the default of R and NumPy).
pub(crate) fn of_sorted(sorted: &[f64], fraction: f64) -> f64 {
    let position = fraction * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let weight = position - below as f64;
    sorted[below] + weight * (sorted[above] - sorted[below])
}
