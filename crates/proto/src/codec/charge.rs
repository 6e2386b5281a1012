//! Charging what a message will take once decoded to the request it came in.
//!
//! The server's byte budget reserves a request's bytes as they arrive on the
//! wire, but a message may take many times its wire size once decoded (each
//! nested element at its struct's size). The decoder foresees that size
//! before decoding, and the budget's middleware, through the task-local set
//! by [`charged`], reserves the difference against the same budget: a request
//! whose decoded form does not fit is refused before it is decoded.

use std::{future::Future, sync::Arc};

use tonic::Status;

/// Where a request's decoded bytes are reserved.
pub trait Charge: Send + Sync {
    /// A message of `wire` bytes will take `decoded` bytes once decoded.
    /// An error refuses the request; nothing is reserved then.
    fn charge(&self, wire: usize, decoded: usize) -> Result<(), Status>;
}

tokio::task_local! {
    static CHARGE: Arc<dyn Charge>;
}

/// Runs `fut` (a request's handling) with every message it decodes offered
/// to `charge`: the request's own messages and also the responses of calls
/// the handler makes to other services, which the charge must tell apart
/// (the server's budget counts the request's messages as they arrive).
/// Messages decoded outside such a future (a stream read from a task the
/// handler spawned) are not offered.
pub fn charged<F: Future>(charge: Arc<dyn Charge>, fut: F) -> impl Future<Output = F::Output> {
    CHARGE.scope(charge, fut)
}

/// Charges a message about to be decoded to the request being handled.
pub(super) fn charge(wire: usize, decoded: usize) -> Result<(), Status> {
    CHARGE
        .try_with(|c| c.charge(wire, decoded))
        .unwrap_or(Ok(()))
}
