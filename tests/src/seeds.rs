//! A well-formed request for every RPC, aimed at one tenant's data (a
//! [`World`]). The fuzzer mutates them so its inputs reach past validation
//! into storage; the isolation walk sends another tenant's to the server.
//! A method missing here fails both tests, so a new RPC cannot go unwalked.

use prost::Message;
use prost_types::{FieldMask, Timestamp};
use rapport_proto::v1::*;

use crate::world::World;

mod admin;
mod gdpr;
mod messaging;
mod rules;

pub(crate) fn at(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

fn customer(w: &World) -> Customer {
    Customer {
        id: w.customer_id.clone(),
        display_name: format!("{}-renamed", w.prefix),
        kind: CustomerKind::Person as i32,
        email: format!("{}@example.com", w.prefix),
        parent_id: w.parent_id.clone(),
        attributes: [("region".to_owned(), "south".to_owned())].into(),
        ..Default::default()
    }
}

fn transaction(w: &World) -> Transaction {
    Transaction {
        source: "pos".into(),
        external_id: format!("{}-T9", w.prefix),
        customer_id: w.customer_id.clone(),
        kind: TransactionKind::Purchase as i32,
        occurred_at: at(1_767_225_600),
        currency_code: "EUR".into(),
        amount: Some(transaction::Amount::AmountDecimal("12.50".into())),
        margin_minor: Some(300),
        ..Default::default()
    }
}

/// The request of `method` (`Service/Method`) for `w`'s tenant, encoded;
/// `None` for a method this file does not know yet.
pub fn seed(method: &str, w: &World) -> Option<Vec<u8>> {
    let id = w.customer_id.clone();
    let bytes = match method {
        "ProfilesService/CreateCustomer" => CreateCustomerRequest {
            request_id: format!("{}-create", w.prefix),
            customer: Some(customer(w)),
        }
        .encode_to_vec(),
        "ProfilesService/GetCustomer" => GetCustomerRequest { customer_id: id }.encode_to_vec(),
        "ProfilesService/UpdateCustomer" => UpdateCustomerRequest {
            customer: Some(customer(w)),
            update_mask: mask(&["display_name", "email", "parent_id", "attributes"]),
        }
        .encode_to_vec(),
        "ProfilesService/DeleteCustomer" => DeleteCustomerRequest {
            customer_id: w.child_id.clone(),
        }
        .encode_to_vec(),
        "ProfilesService/ListCustomers" => ListCustomersRequest {
            page_size: 2,
            page_token: w.customers_page.clone(),
            attribute_filter: [("region".to_owned(), w.secret.clone())].into(),
            parent_id: w.parent_id.clone(),
        }
        .encode_to_vec(),
        "ProfilesService/LookupCustomer" => LookupCustomerRequest {
            identity: Some(w.identity.clone()),
        }
        .encode_to_vec(),
        "ProfilesService/AddIdentity" => AddIdentityRequest {
            customer_id: id,
            identity: Some(ExternalIdentity {
                source: "web".into(),
                external_id: format!("{}-W1", w.prefix),
            }),
        }
        .encode_to_vec(),
        "ProfilesService/SetConsent" => SetConsentRequest {
            customer_id: id,
            channel: Channel::Sms as i32,
            granted: true,
            at: at(1_767_225_600),
        }
        .encode_to_vec(),
        "ProfilesService/UpsertCustomers" => UpsertCustomersRequest {
            customers: vec![CustomerRecord {
                identity: Some(w.identity.clone()),
                display_name: format!("{}-upserted", w.prefix),
                kind: CustomerKind::Person as i32,
                parent_external_id: format!("{}-P", w.prefix),
                consents: vec![Consent {
                    channel: Channel::Email as i32,
                    granted: true,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec(),
        "ProfilesService/ResolveIdentities" => ResolveIdentitiesRequest {
            identities: vec![w.identity.clone()],
            create_missing: true,
            customer_ids: vec![id, w.parent_id.clone()],
        }
        .encode_to_vec(),
        "IngestionService/IngestTransactions" | "IngestionService/StreamTransactions" => {
            IngestTransactionsRequest {
                transactions: vec![transaction(w)],
            }
            .encode_to_vec()
        }
        "IngestionService/IngestEvents" => IngestEventsRequest {
            events: vec![InteractionEvent {
                source: "web".into(),
                external_id: format!("{}-E2", w.prefix),
                customer_id: id,
                kind: "cart_abandoned".into(),
                occurred_at: at(1_767_225_600),
                properties: [("sku".to_owned(), "A-1".to_owned())].into(),
                ..Default::default()
            }],
        }
        .encode_to_vec(),
        "IngestionService/ListTransactions" => ListTransactionsRequest {
            customer_id: id,
            page_size: 1,
            page_token: w.transactions_page.clone(),
        }
        .encode_to_vec(),
        "TenantsService/ListApiKeys" => ListApiKeysRequest {
            page_size: 5,
            page_token: String::new(),
        }
        .encode_to_vec(),
        "TenantsService/CreateApiKey" => CreateApiKeyRequest {
            request_id: format!("{}-third-key", w.prefix),
            label: "third".into(),
        }
        .encode_to_vec(),
        "TenantsService/RevokeApiKey" => RevokeApiKeyRequest {
            key_id: w.key_id.clone(),
        }
        .encode_to_vec(),
        "TenantsService/ListAuditEvents" => ListAuditEventsRequest {
            page_size: 5,
            target_prefix: format!("customer:{}/", w.customer_id),
            since: at(1_767_225_600),
            ..Default::default()
        }
        .encode_to_vec(),
        _ => {
            return scoring_seed(method, w)
                .or_else(|| rules::seed(method, w))
                .or_else(|| messaging::seed(method, w))
                .or_else(|| admin::seed(method, w))
                .or_else(|| gdpr::seed(method, w));
        }
    };
    Some(bytes)
}

fn scoring_seed(method: &str, w: &World) -> Option<Vec<u8>> {
    let id = w.customer_id.clone();
    let bytes = match method {
        "ScoringService/GetScore" => GetScoreRequest { customer_id: id }.encode_to_vec(),
        "ScoringService/BatchGetScores" => BatchGetScoresRequest {
            customer_ids: vec![id, w.child_id.clone()],
        }
        .encode_to_vec(),
        "ScoringService/ListScores" => ListScoresRequest {
            order_by: ScoreOrder::NetSpend as i32,
            page_size: 10,
            page_token: String::new(),
        }
        .encode_to_vec(),
        "ScoringService/SummarizeScores" => SummarizeScoresRequest {}.encode_to_vec(),
        "ScoringService/ApplyChanges" => ApplyChangesRequest {
            changes: vec![ChangeEvent {
                id: format!("{}-change", w.prefix),
                customer_id: id,
                change: Some(change_event::Change::Transaction(TransactionChange {
                    kind: TransactionKind::Purchase as i32,
                    occurred_at: at(1_767_225_600),
                    amount_minor: 1_000,
                    currency_code: "EUR".into(),
                    ..Default::default()
                })),
            }],
        }
        .encode_to_vec(),
        "ScoringService/FitModels" => FitModelsRequest::default().encode_to_vec(),
        "ScoringService/GetModelFit" => GetModelFitRequest {
            version: w.fit_version.max(1),
        }
        .encode_to_vec(),
        "ScoringService/ListModelFits" => ListModelFitsRequest {
            page_size: 5,
            page_token: String::new(),
        }
        .encode_to_vec(),
        "ScoringService/EvaluateModels" => EvaluateModelsRequest {
            calibration_end: at(1_767_225_600 + 86_400 * 14),
            holdout_end: at(1_767_225_600 + 86_400 * 30),
        }
        .encode_to_vec(),
        "ScoringService/GetScoringSettings" => GetScoringSettingsRequest {}.encode_to_vec(),
        "ScoringService/UpdateScoringSettings" => UpdateScoringSettingsRequest {
            settings: Some(ScoringSettings {
                annual_discount_rate: 0.1,
                default_margin_rate: 0.3,
                category_margin_rates: [("home".to_owned(), 0.25)].into(),
                tiers: vec![
                    TierThreshold {
                        name: "base".into(),
                        min_percentile: 0.0,
                    },
                    TierThreshold {
                        name: "gold".into(),
                        min_percentile: 90.0,
                    },
                ],
                ..Default::default()
            }),
            update_mask: mask(&["annual_discount_rate", "category_margin_rates", "tiers"]),
        }
        .encode_to_vec(),
        "ScoringService/GetCustomerEquity" => GetCustomerEquityRequest {}.encode_to_vec(),
        "ScoringService/ListDeadLetters" => ListDeadLettersRequest {
            page_size: 5,
            page_token: String::new(),
        }
        .encode_to_vec(),
        "ScoringService/RedriveDeadLetters" => RedriveDeadLettersRequest {
            change_ids: vec![format!("{}-change", w.prefix)],
        }
        .encode_to_vec(),
        // Server streaming: callers read the first response (the start).
        "ScoreChangesService/WatchScoreChanges" => WatchScoreChangesRequest {
            start: WatchStart::OldestRetained as i32,
            ..Default::default()
        }
        .encode_to_vec(),
        "ScoreChangesService/PutScoreChangeSubscription" => PutScoreChangeSubscriptionRequest {
            subscription: Some(ScoreChangeSubscription {
                name: format!("{}-feed", w.prefix),
                endpoint: format!("{}-crm", w.prefix),
                kinds: vec![ScoreChangeKind::LifetimeValueMoved as i32],
                description: "lifetime value to the CRM".into(),
                ..Default::default()
            }),
            start: WatchStart::OldestRetained as i32,
        }
        .encode_to_vec(),
        "ScoreChangesService/GetScoreChangeSubscription" => GetScoreChangeSubscriptionRequest {
            name: format!("{}-feed", w.prefix),
        }
        .encode_to_vec(),
        "ScoreChangesService/ListScoreChangeSubscriptions" => {
            ListScoreChangeSubscriptionsRequest {}.encode_to_vec()
        }
        "ScoreChangesService/DeleteScoreChangeSubscription" => {
            DeleteScoreChangeSubscriptionRequest {
                name: format!("{}-feed", w.prefix),
            }
            .encode_to_vec()
        }
        "OpportunitiesService/IngestOpportunityEvents" => IngestOpportunityEventsRequest {
            events: vec![OpportunityEvent {
                source: "crm".into(),
                external_id: format!("{}-OE1", w.prefix),
                customer_id: id,
                opportunity_id: format!("{}-O1", w.prefix),
                kind: OpportunityEventKind::Created as i32,
                stage: "qualify".into(),
                amount: Some(Money {
                    currency_code: "EUR".into(),
                    minor_units: 10_000,
                }),
                occurred_at: at(1_767_225_600),
                ..Default::default()
            }],
        }
        .encode_to_vec(),
        "OpportunitiesService/ListOpportunities" => ListOpportunitiesRequest {
            customer_id: id,
            page_size: 5,
            ..Default::default()
        }
        .encode_to_vec(),
        "OpportunitiesService/GetOpportunity" => GetOpportunityRequest {
            opportunity: Some(ExternalIdentity {
                source: "crm".into(),
                external_id: format!("{}-O1", w.prefix),
            }),
        }
        .encode_to_vec(),
        "OpportunitiesService/GetPipeline" => GetPipelineRequest {
            level: PipelineLevel::Account as i32,
            page_size: 5,
            page_token: String::new(),
        }
        .encode_to_vec(),
        "LoyaltyService/GetPointsProgramme" => GetPointsProgrammeRequest {}.encode_to_vec(),
        "LoyaltyService/PutPointsProgramme" => PutPointsProgrammeRequest {
            programme: Some(PointsProgramme {
                points_per_unit: 2.5,
                category_multipliers: [("books".to_owned(), 2.0)].into(),
                tier_multipliers: [("gold".to_owned(), 1.5)].into(),
                welcome_bonus: 100,
                birthday_bonus: 50,
                expiry_months: 12,
                ..Default::default()
            }),
        }
        .encode_to_vec(),
        "LoyaltyService/GetPointsBalance" => GetPointsBalanceRequest {
            customer_id: id.clone(),
        }
        .encode_to_vec(),
        "LoyaltyService/RedeemPoints" => RedeemPointsRequest {
            request_id: format!("{}-redeem", w.prefix),
            customer_id: id.clone(),
            points: 5,
            reason: "order 7".into(),
        }
        .encode_to_vec(),
        "LoyaltyService/AdjustPoints" => AdjustPointsRequest {
            request_id: format!("{}-adjust", w.prefix),
            customer_id: id.clone(),
            points: -5,
            reason: "correction".into(),
        }
        .encode_to_vec(),
        "LoyaltyService/ListPointsLedger" => ListPointsLedgerRequest {
            customer_id: id.clone(),
            page_size: 5,
            page_token: String::new(),
        }
        .encode_to_vec(),
        "ReportsService/StartReport" => StartReportRequest {
            request_id: format!("{}-report", w.prefix),
            rankings: vec![RankingSpec {
                measure: ReportMeasure::NetSpend as i32,
                limit: 5,
                filters: vec![ReportFilter {
                    dimension: ReportDimension::Region as i32,
                    value: "south".into(),
                }],
            }],
        }
        .encode_to_vec(),
        "ReportsService/GetReport" => GetReportRequest {
            run_id: w.report_run_id.clone(),
        }
        .encode_to_vec(),
        "ReportsService/GetCrossSell" => GetCrossSellRequest {
            customer_id: id.clone(),
        }
        .encode_to_vec(),
        "ReportsService/ListReports" => ListReportsRequest {
            page_size: 5,
            page_token: String::new(),
        }
        .encode_to_vec(),
        _ => return None,
    };
    Some(bytes)
}
