//! Business rules: CEL conditions over a customer's scores, profile and
//! events, with actions (notify, webhook, tier, tag). Rules are versioned
//! (draft, publish, roll back) and evaluated durably: ApplyChanges writes work
//! rows in its own transaction, a worker on every replica claims them (SKIP
//! LOCKED), and a periodic pass per tenant catches conditions that become true
//! with time alone.

mod actions;
mod crud;
mod definition;
mod dry_run;
pub(crate) mod enqueue;
mod env;
mod evaluate;
mod query;
mod service;
mod stats;
mod store;
mod validate;
mod work;
mod worker;

pub use service::RulesApi;
pub use worker::{RulesOptions, RulesWorker};

use rapport_kit::{Authenticator, Db, internal::InternalCredentials};
use rapport_proto::v1::notifications_service_client::NotificationsServiceClient;
use tonic::transport::Channel;

use crate::{engine::Engine, reads::Reader};

/// What the rules RPCs and the worker share.
#[derive(Clone)]
pub struct Rules {
    pub(crate) store: store::RuleStore,
    pub(crate) work: work::WorkStore,
    pub(crate) reader: Reader,
    pub(crate) engine: Engine,
    pub(crate) notifications: NotificationsServiceClient<Channel>,
    pub(crate) internal: InternalCredentials,
    pub(crate) auth: Authenticator,
    pub(crate) db: Db,
}

impl Rules {
    /// Over the service's pool and parts.
    pub(crate) fn new(
        db: Db,
        reader: Reader,
        engine: Engine,
        notifications: NotificationsServiceClient<Channel>,
        internal: InternalCredentials,
        auth: Authenticator,
    ) -> Self {
        Rules {
            store: store::RuleStore { db: db.clone() },
            work: work::WorkStore { db: db.clone() },
            reader,
            engine,
            notifications,
            internal,
            auth,
            db,
        }
    }
}
