//! How the demo's report names things: money in its currency, models by
//! their usual names, customers by their display name.

use rapport_kit::domain::CurrencyCode;
use rapport_proto::v1::{GetCustomerRequest, ModelKind};

use crate::client::Clients;

/// `1,234.50 EUR`, or `-` for no amount.
pub(super) fn money(m: Option<&rapport_proto::v1::Money>) -> String {
    match m {
        Some(m) => match CurrencyCode::parse(&m.currency_code) {
            Ok(c) => format!(
                "{} {}",
                rapport_kit::domain::format_minor(m.minor_units, c),
                c
            ),
            Err(_) => format!("{} minor units", m.minor_units),
        },
        None => "-".to_owned(),
    }
}

/// `BG/NBD`, `Gamma-Gamma`, ...
pub(super) fn model_name(kind: i32) -> &'static str {
    match ModelKind::try_from(kind).unwrap_or(ModelKind::Unspecified) {
        ModelKind::BgNbd => "BG/NBD",
        ModelKind::MbgNbd => "MBG/NBD",
        ModelKind::ParetoNbd => "Pareto/NBD",
        ModelKind::GammaGamma => "Gamma-Gamma",
        ModelKind::Unspecified => "-",
    }
}

/// A customer's display name, or their id when they have none.
pub(super) async fn name_of(clients: &mut Clients, id: &str) -> anyhow::Result<String> {
    let c = clients
        .profiles
        .get_customer(GetCustomerRequest {
            customer_id: id.to_owned(),
        })
        .await?
        .into_inner()
        .customer
        .unwrap_or_default();
    Ok(if c.display_name.is_empty() {
        id.to_owned()
    } else {
        c.display_name
    })
}
