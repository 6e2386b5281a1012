//! Customer rows: the known columns, consent as yes or no, and every other
//! column kept as an attribute.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rapport_proto::v1::{
    Channel, Consent, CustomerKind, CustomerRecord, ExternalIdentity, UpsertCustomersRequest,
    UpsertCustomersResponse,
};

use super::{BatchOutcome, Kind, Problems, Row, RowOptions};
use crate::domain::chrono_to_timestamp;

const CUSTOMER_COLUMNS: &[&str] = &[
    "source",
    "customer_id",
    "name",
    "kind",
    "email",
    "phone",
    "parent_id",
    "consent_email",
    "consent_sms",
    "consent_webhook",
];

/// Customers. Columns: `customer_id` (required), `source`, `name`, `kind`
/// (person, business, intermediary), `email`, `phone`, `parent_id` (the
/// parent account's customer_id), `consent_email`, `consent_sms`,
/// `consent_webhook` (yes/no); every other column becomes an attribute.
/// Sent with `UpsertCustomers`, keyed by identity.
pub struct Customers(pub RowOptions);

impl Kind for Customers {
    type Item = CustomerRecord;
    type Request = UpsertCustomersRequest;
    type Response = UpsertCustomersResponse;
    const WHAT: &'static str = "customers";
    const REQUIRED: &'static [&'static str] = &["customer_id"];
    const PATH: &'static str = "/rapport.v1.ProfilesService/UpsertCustomers";
    const SERVICE: &'static str = "rapport.v1.ProfilesService";

    fn parse(&self, row: &Row<'_>) -> Result<CustomerRecord, Problems> {
        customer_record(row, &self.0.source, self.0.now)
    }

    fn request(customers: Vec<CustomerRecord>) -> UpsertCustomersRequest {
        UpsertCustomersRequest { customers }
    }

    fn outcome(resp: UpsertCustomersResponse) -> BatchOutcome {
        BatchOutcome {
            stored: resp.created,
            updated: resp.updated,
            unchanged: resp.unchanged,
            customers_created: 0,
            rejected: resp.rejected,
        }
    }
}

fn customer_record(
    row: &Row<'_>,
    default_source: &str,
    now: DateTime<Utc>,
) -> Result<CustomerRecord, Problems> {
    let mut problems = Problems::new();
    let (headers, record) = (row.headers, row.record);
    let mut cols: BTreeMap<&str, &str> = BTreeMap::new();
    let mut attributes = std::collections::HashMap::new();
    for (h, v) in headers.iter().zip(record.iter()) {
        if CUSTOMER_COLUMNS.contains(&h.as_str()) {
            cols.insert(h.as_str(), v);
        } else if !v.is_empty() {
            attributes.insert(h.clone(), v.to_owned());
        }
    }
    let col = |c: &str| cols.get(c).copied().unwrap_or("");
    let source = if col("source").is_empty() {
        default_source
    } else {
        col("source")
    };
    let kind = match col("kind").to_ascii_lowercase().as_str() {
        "" => CustomerKind::Unspecified,
        "person" | "consumer" | "b2c" => CustomerKind::Person,
        "business" | "company" | "b2b" => CustomerKind::Business,
        "intermediary" | "broker" | "reseller" | "agent" => CustomerKind::Intermediary,
        other => {
            problems.push((
                "kind".into(),
                format!("{other:?} is not one of person, business, intermediary"),
            ));
            CustomerKind::Unspecified
        }
    };
    let mut consents = Vec::new();
    for (column, channel) in [
        ("consent_email", Channel::Email),
        ("consent_sms", Channel::Sms),
        ("consent_webhook", Channel::Webhook),
    ] {
        let granted = match col(column).to_ascii_lowercase().as_str() {
            "" => continue,
            "yes" | "y" | "true" | "1" | "granted" => true,
            "no" | "n" | "false" | "0" | "revoked" => false,
            other => {
                problems.push((column.into(), format!("{other:?} is not yes or no")));
                continue;
            }
        };
        let at = Some(chrono_to_timestamp(now));
        consents.push(Consent {
            channel: channel as i32,
            granted,
            granted_at: if granted { at } else { None },
            revoked_at: if granted { None } else { at },
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(CustomerRecord {
        identity: Some(ExternalIdentity {
            source: source.to_owned(),
            external_id: col("customer_id").to_owned(),
        }),
        display_name: col("name").to_owned(),
        kind: kind as i32,
        email: col("email").to_owned(),
        phone: col("phone").to_owned(),
        parent_external_id: col("parent_id").to_owned(),
        attributes,
        consents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn customer_rows_map_columns_and_attributes() {
        let headers = strings(&["customer_id", "name", "kind", "consent_email", "region"]);
        let rec = strings(&["C1", "Ada", "business", "yes", "north"]);
        let row = |record| Row {
            headers: &headers,
            record,
        };
        let c = customer_record(&row(&rec), "erp", Utc::now()).unwrap();
        assert_eq!(c.identity.unwrap().external_id, "C1");
        assert_eq!(c.kind, CustomerKind::Business as i32);
        assert_eq!(
            c.attributes.get("region").map(String::as_str),
            Some("north")
        );
        assert!(c.consents[0].granted);
        let bad = strings(&["C1", "Ada", "alien", "", ""]);
        let problems = customer_record(&row(&bad), "erp", Utc::now()).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, "kind");
        // Every bad column of a row at once.
        let worse = strings(&["C1", "Ada", "alien", "perhaps", ""]);
        let problems = customer_record(&row(&worse), "erp", Utc::now()).unwrap_err();
        let columns: Vec<&str> = problems.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(columns, ["kind", "consent_email"]);
    }
}
