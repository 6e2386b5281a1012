//! Profiles, the peer service, as scoring calls it with the internal
//! credential: pages of a tenant's customers (wallet estimates) and one
//! customer's profile (what rules read).

use std::collections::BTreeMap;

use rapport_kit::internal::InternalCredentials;
use rapport_proto::v1::{
    CustomerKind, GetCustomerRequest, ListCustomersRequest, ListCustomersResponse,
    profiles_service_client::ProfilesServiceClient,
};
use tonic::transport::Channel;
use uuid::Uuid;

use crate::error::Error;

/// The Profiles service and the credential to call it with.
#[derive(Clone)]
pub struct Profiles {
    /// The client.
    pub client: ProfilesServiceClient<Channel>,
    /// The credential.
    pub internal: InternalCredentials,
}

fn unavailable(s: tonic::Status) -> Error {
    Error::Unavailable(format!("profiles: {}", s.message()))
}

/// The stored name of a customer kind ("person"); empty when unspecified.
pub(crate) fn kind_name(kind: i32) -> String {
    CustomerKind::try_from(kind)
        .ok()
        .filter(|k| *k != CustomerKind::Unspecified)
        .map(|k| {
            k.as_str_name()
                .trim_start_matches("CUSTOMER_KIND_")
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

impl Profiles {
    /// The page of `size` customers of `tenant` at `token` (the first for "").
    pub async fn customers(
        &self,
        tenant: Uuid,
        token: &str,
        size: i32,
    ) -> Result<ListCustomersResponse, Error> {
        let request = ListCustomersRequest {
            page_size: size,
            page_token: token.to_owned(),
            ..Default::default()
        };
        let request = self.internal.request(tenant, None, request);
        match self.client.clone().list_customers(request).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(unavailable(s)),
        }
    }

    /// A customer's display name; empty without a profile.
    pub async fn display_name(&self, tenant: Uuid, customer: Uuid) -> Result<String, Error> {
        let request = GetCustomerRequest {
            customer_id: customer.to_string(),
        };
        let request = self.internal.request(tenant, None, request);
        match self.client.clone().get_customer(request).await {
            Ok(r) => Ok(r.into_inner().customer.unwrap_or_default().display_name),
            Err(s) if s.code() == tonic::Code::NotFound => Ok(String::new()),
            Err(s) => Err(unavailable(s)),
        }
    }

    /// A customer's kind and attributes; a customer without a profile has
    /// none.
    pub async fn customer(
        &self,
        tenant: Uuid,
        customer: Uuid,
    ) -> Result<(String, BTreeMap<String, String>), Error> {
        let request = GetCustomerRequest {
            customer_id: customer.to_string(),
        };
        let request = self.internal.request(tenant, None, request);
        match self.client.clone().get_customer(request).await {
            Ok(r) => {
                let c = r.into_inner().customer.unwrap_or_default();
                Ok((kind_name(c.kind), c.attributes.into_iter().collect()))
            }
            Err(s) if s.code() == tonic::Code::NotFound => Ok((String::new(), BTreeMap::new())),
            Err(s) => Err(unavailable(s)),
        }
    }
}
