//! Requests of the operator's `AdminService`, aimed at the world's tenant.
//! With a tenant's key every one is refused (PERMISSION_DENIED); the
//! fuzzer still sends them, so none may fail the server.

use prost::Message;
use rapport_proto::v1::*;

use crate::world::World;

pub(super) fn seed(method: &str, w: &World) -> Option<Vec<u8>> {
    let name = w.prefix.clone();
    let bytes = match method {
        "AdminService/ListTenants" => ListTenantsRequest {
            page_size: 5,
            page_token: String::new(),
        }
        .encode_to_vec(),
        "AdminService/GetTenant" => GetTenantRequest {
            tenant_id: String::new(),
            name,
        }
        .encode_to_vec(),
        "AdminService/CreateTenant" => CreateTenantRequest {
            request_id: format!("{}-tenant", w.prefix),
            name: format!("{}-second", w.prefix),
            currency_code: "EUR".into(),
        }
        .encode_to_vec(),
        "AdminService/RenameTenant" => RenameTenantRequest {
            tenant_id: w.customer_id.clone(),
            name: format!("{}-renamed", w.prefix),
        }
        .encode_to_vec(),
        "AdminService/DisableTenant" => DisableTenantRequest {
            tenant_id: w.customer_id.clone(),
            reason: "unpaid".into(),
        }
        .encode_to_vec(),
        "AdminService/EnableTenant" => EnableTenantRequest {
            tenant_id: w.customer_id.clone(),
        }
        .encode_to_vec(),
        _ => return None,
    };
    Some(bytes)
}
