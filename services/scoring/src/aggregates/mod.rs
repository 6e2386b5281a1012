//! A customer's aggregates as plain values: the changes that arrive, the delta
//! they make to the stored totals, the figures derived from those totals and
//! the rules work they queue. No storage and no I/O, so both the storage layer
//! (`repo`) and the read and apply paths (`scores`) build on it.

pub mod changes;
pub mod delta;
pub mod figures;
pub mod rule_work;
pub mod summary;
