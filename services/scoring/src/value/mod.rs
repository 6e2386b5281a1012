//! Customer value as the service applies the science: the purchase and spend
//! models and fitting them, customer histories, the read-time measures, each
//! tenant's state they are computed from, and model checking. Nothing here
//! reads or writes scores; the read path and the refresh build on it.

pub mod fits;
pub mod fitting;
pub mod histories;
pub mod measures;
pub mod model_check;
pub mod models;
pub mod sample;
pub mod tenant_state;
pub mod tenant_states;

use crate::error::Error;

/// Runs CPU-heavy science on the blocking pool, so fits and passes over a
/// tenant never stall request handling.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("fit task failed: {e}")))
}
