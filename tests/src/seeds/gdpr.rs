//! Requests of customer export and erasure: the public RPCs of profiles
//! and the internal ones of the other services it calls. Erasure aims at
//! the child account, as DeleteCustomer does, so the rest of the world
//! stays for the other requests.

use prost::Message;
use rapport_proto::v1::*;

use crate::world::World;

pub(super) fn seed(method: &str, w: &World) -> Option<Vec<u8>> {
    let (id, child) = (w.customer_id.clone(), w.child_id.clone());
    let erasure_id = "0190f0c8-7a4e-7000-8000-000000000001".to_owned();
    let bytes = match method {
        "ProfilesService/ExportCustomer" => {
            ExportCustomerRequest { customer_id: id }.encode_to_vec()
        }
        "ProfilesService/EraseCustomer" => {
            EraseCustomerRequest { customer_id: child }.encode_to_vec()
        }
        "IngestionService/ExportCustomerActivity" => ExportCustomerActivityRequest {
            customer_id: id,
            limit: 10,
        }
        .encode_to_vec(),
        "IngestionService/EraseCustomerActivity" => EraseCustomerActivityRequest {
            customer_id: child,
            erasure_id,
        }
        .encode_to_vec(),
        "ScoringService/ExportCustomerScores" => ExportCustomerScoresRequest {
            customer_id: id,
            limit: 10,
        }
        .encode_to_vec(),
        "ScoringService/EraseCustomerScores" => EraseCustomerScoresRequest {
            customer_id: child,
            erasure_id,
        }
        .encode_to_vec(),
        "NotificationsService/ExportCustomerNotifications" => ExportCustomerNotificationsRequest {
            customer_id: id,
            limit: 10,
        }
        .encode_to_vec(),
        "NotificationsService/EraseCustomerNotifications" => EraseCustomerNotificationsRequest {
            customer_id: child,
            erasure_id,
        }
        .encode_to_vec(),
        _ => return None,
    };
    Some(bytes)
}
