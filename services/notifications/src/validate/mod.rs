//! Requests parsed into values the core can trust, with every bad field
//! named at once.

mod destination;
mod endpoint;
pub(crate) mod limits;
mod list;
mod names;
mod policy;
mod send;
mod template;

pub use endpoint::put as endpoint_put;
pub use endpoint::{EndpointPut, MAX_ENDPOINTS, endpoint_name};
pub use limits::{MAX_BODY, MAX_SUBJECT};
pub use list::{list_request, next_page_token, notification_id};
pub use policy::contact_policy;
pub use send::{Configured, SendRequest, send_request};
pub use template::{next_template_token, preview, template, template_key, template_page};

#[cfg(test)]
mod tests;
