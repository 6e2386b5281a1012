//! One tenant's data of every kind, made through the public API: customers in
//! a hierarchy, identities, consent, transactions, an event, a score, a
//! published rule, a template, a notification, settings and a model fit
//! when the data allows one. The fuzzer aims its requests at these ids; the
//! isolation walk aims another tenant's requests at them.

use std::time::Duration;

use uuid::Uuid;

use chrono::{TimeZone, Utc};
use rapport::client::Clients;
use rapport_kit::internal::InternalCredentials;
use rapport_kit::testing::ok;
use rapport_proto::v1::{
    AdjustPointsRequest, ApplyChangesRequest, ChangeEvent, Channel, ContactPolicy,
    CreateApiKeyRequest, CreateRuleRequest, CustomerKind, CustomerRecord, ExternalIdentity,
    FitModelsRequest, IngestEventsRequest, IngestTransactionsRequest, IntegrationEndpoint,
    InteractionEvent, ListCustomersRequest, ListTransactionsRequest, PointsProgramme,
    PublishRuleRequest, PutIntegrationEndpointRequest, PutPointsProgrammeRequest,
    PutScoreChangeSubscriptionRequest, PutTemplateRequest, RotateWebhookSecretRequest, RuleAction,
    RuleDefinition, ScoreChangeKind, ScoreChangeSubscription, SendNotificationRequest,
    SetConsentRequest, StartReportRequest, TagAction, Template, Transaction, TransactionChange,
    TransactionKind, UpdateContactPolicyRequest, UpsertCustomersRequest, WatchStart, change_event,
    rule_action, scoring_service_client::ScoringServiceClient,
    tenants_service_client::TenantsServiceClient, transaction,
};

/// The ids and texts of one tenant's data.
#[derive(Debug, Clone)]
pub struct World {
    /// Leads every name and external id this tenant chose (`acme-…`).
    pub prefix: String,
    /// Text stored only inside this tenant's records (names, bodies,
    /// categories, descriptions), never in an id or key another caller
    /// would send: seeing it in an answer means seeing this tenant's data.
    pub secret: String,
    /// A person with an email, consent, purchases, a refund and an event.
    pub customer_id: String,
    /// The person's ERP identity.
    pub identity: ExternalIdentity,
    /// A business account with a child.
    pub parent_id: String,
    /// The business account's child.
    pub child_id: String,
    /// A published rule.
    pub rule_id: String,
    /// A template's name (email, locale `en`).
    pub template: String,
    /// A notification sent to the person.
    pub notification_id: String,
    /// A stored model fit's version, 0 when the data fitted none.
    pub fit_version: u64,
    /// The second page of the tenant's customers.
    pub customers_page: String,
    /// The second page of the person's transactions.
    pub transactions_page: String,
    /// A second API key of the tenant's (its id).
    pub key_id: String,
    /// A report run of the tenant's.
    pub report_run_id: String,
}

fn identity(prefix: &str, id: &str) -> ExternalIdentity {
    ExternalIdentity {
        source: "erp".into(),
        external_id: format!("{prefix}-{id}"),
    }
}

fn record(w: &World, id: &str, kind: CustomerKind, parent: &str) -> CustomerRecord {
    CustomerRecord {
        identity: Some(identity(&w.prefix, id)),
        display_name: format!("{} {id}", w.secret),
        kind: kind as i32,
        email: format!("{}.{id}@example.com", w.secret),
        phone: "+4915112345678".into(),
        parent_external_id: if parent.is_empty() {
            String::new()
        } else {
            format!("{}-{parent}", w.prefix)
        },
        attributes: [("region".to_owned(), w.secret.clone())].into(),
        consents: Vec::new(),
    }
}

fn purchase(w: &World, n: u32, day: u32, kind: TransactionKind) -> Transaction {
    let at = Utc.with_ymd_and_hms(2026, 1, day, 12, 0, 0).unwrap();
    Transaction {
        source: "erp".into(),
        external_id: format!("{}-T{n}", w.prefix),
        customer: Some(w.identity.clone()),
        kind: kind as i32,
        occurred_at: Some(prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: 0,
        }),
        currency_code: "EUR".into(),
        amount: Some(transaction::Amount::AmountMinor(12_345 + i64::from(n))),
        category: w.secret.clone(),
        ..Default::default()
    }
}

/// Creates another API key for the tenant of `key`; returns its id.
async fn second_key(url: &str, key: &str, prefix: &str) -> String {
    let channel = rapport_kit::internal::lazy_channel(url, Duration::from_secs(30)).unwrap();
    let auth = rapport_kit::internal::BearerAuth::new(key).unwrap();
    let mut tenants = TenantsServiceClient::with_interceptor(channel, auth);
    let created = ok(tenants.create_api_key(CreateApiKeyRequest {
        request_id: format!("{prefix}-second-key"),
        label: "second".into(),
    }))
    .await;
    created.key.expect("key").id
}

impl World {
    /// Makes the data for the tenant whose API key is `key`, through `c`
    /// (clients of the suite at `url` with that key); `prefix` names it.
    pub async fn create(c: &mut Clients, url: &str, key: &str, prefix: &str) -> World {
        let mut w = World {
            prefix: prefix.to_owned(),
            secret: format!("secret{}", uuid::Uuid::new_v4().simple()),
            identity: identity(prefix, "C"),
            customer_id: String::new(),
            parent_id: String::new(),
            child_id: String::new(),
            rule_id: String::new(),
            template: format!("{prefix}-tpl"),
            notification_id: String::new(),
            fit_version: 0,
            customers_page: String::new(),
            transactions_page: String::new(),
            key_id: String::new(),
            report_run_id: String::new(),
        };
        let customers = vec![
            record(&w, "P", CustomerKind::Business, ""),
            record(&w, "C", CustomerKind::Person, ""),
            record(&w, "K", CustomerKind::Business, "P"),
        ];
        let upsert = ok(c
            .profiles
            .upsert_customers(UpsertCustomersRequest { customers }))
        .await;
        assert!(upsert.rejected.is_empty(), "{:?}", upsert.rejected);
        let [p, cu, k] = <[String; 3]>::try_from(upsert.customer_ids).expect("three ids");
        (w.parent_id, w.customer_id, w.child_id) = (p, cu, k);
        for channel in [Channel::Email, Channel::Webhook] {
            ok(c.profiles.set_consent(SetConsentRequest {
                customer_id: w.customer_id.clone(),
                channel: channel as i32,
                granted: true,
                at: None,
            }))
            .await;
        }
        w.ingest(c).await;
        w.points(c).await;
        w.rules_and_messages(c).await;
        w.pages(c).await;
        w.key_id = second_key(url, key, prefix).await;
        w
    }

    /// The person's transactions as the ERP sent them (three purchases
    /// and a refund, naming the person by their ERP identity).
    pub fn person_transactions(&self) -> Vec<Transaction> {
        (1..=4)
            .map(|n| {
                let kind = match n {
                    4 => TransactionKind::Refund,
                    _ => TransactionKind::Purchase,
                };
                purchase(self, n, n * 3, kind)
            })
            .collect()
    }

    async fn ingest(&mut self, c: &mut Clients) {
        let mut transactions = self.person_transactions();
        // The child buys too: a model fit needs more than one buyer.
        for n in 5..=6 {
            transactions.push(Transaction {
                customer: Some(identity(&self.prefix, "K")),
                ..purchase(self, n, n * 4, TransactionKind::Purchase)
            });
        }
        let done = ok(c
            .ingestion
            .ingest_transactions(IngestTransactionsRequest { transactions }))
        .await;
        assert!(done.rejected.is_empty(), "{:?}", done.rejected);
        let event = InteractionEvent {
            source: "web".into(),
            external_id: format!("{}-E1", self.prefix),
            customer: Some(self.identity.clone()),
            kind: "email_opened".into(),
            occurred_at: Some(prost_types::Timestamp {
                seconds: Utc::now().timestamp() - 3_600,
                nanos: 0,
            }),
            properties: [("campaign".to_owned(), self.secret.clone())].into(),
            ..Default::default()
        };
        let done = ok(c.ingestion.ingest_events(IngestEventsRequest {
            events: vec![event],
        }))
        .await;
        assert!(done.rejected.is_empty(), "{:?}", done.rejected);
        let scored = crate::score_once(c, &self.customer_id, Duration::from_secs(20), |s| {
            s.purchase_count == 3
        })
        .await;
        assert!(scored.is_some(), "the person's purchases were never scored");
        // Too little data for a fit is refused; then there is no fit to read.
        let fit = c.scoring.fit_models(FitModelsRequest::default()).await;
        if let Ok(fit) = fit {
            self.fit_version = fit.into_inner().fit.map(|f| f.version).unwrap_or(0);
        }
    }

    /// A points programme and points for the person, added by hand.
    async fn points(&mut self, c: &mut Clients) {
        ok(c.loyalty.put_points_programme(PutPointsProgrammeRequest {
            programme: Some(PointsProgramme {
                points_per_unit: 1.0,
                welcome_bonus: 10,
                ..Default::default()
            }),
        }))
        .await;
        ok(c.loyalty.adjust_points(AdjustPointsRequest {
            request_id: format!("{}-points", self.prefix),
            customer_id: self.customer_id.clone(),
            points: 50,
            reason: format!("{} goodwill", self.secret),
        }))
        .await;
    }

    async fn rules_and_messages(&mut self, c: &mut Clients) {
        let definition = RuleDefinition {
            name: format!("{}-rule", self.prefix),
            description: self.secret.clone(),
            condition: "score.net_spend > 1.0".into(),
            trigger: rapport_proto::v1::RuleTrigger::ScoreChange as i32,
            actions: vec![RuleAction {
                action: Some(rule_action::Action::Tag(TagAction { tag: "big".into() })),
            }],
            ..Default::default()
        };
        let rule = ok(c.rules.create_rule(CreateRuleRequest {
            request_id: format!("{}-rule", self.prefix),
            author: format!("{}@example.com", self.secret),
            definition: Some(definition),
        }))
        .await;
        self.rule_id = rule.rule.expect("rule").id;
        ok(c.rules.publish_rule(PublishRuleRequest {
            rule_id: self.rule_id.clone(),
            version: 1,
        }))
        .await;
        ok(c.notifications.put_template(PutTemplateRequest {
            template: Some(Template {
                name: self.template.clone(),
                channel: Channel::Email as i32,
                locale: "en".into(),
                subject: format!("{} subject", self.secret),
                body: format!("{} body", self.secret),
                default_locale: true,
                ..Default::default()
            }),
        }))
        .await;
        ok(c.notifications
            .rotate_webhook_secret(RotateWebhookSecretRequest {}))
        .await;
        // An integration endpoint and a subscription posting the tenant's
        // score changes to it (nothing listens there).
        ok(c.notifications
            .put_integration_endpoint(PutIntegrationEndpointRequest {
                endpoint: Some(IntegrationEndpoint {
                    name: format!("{}-crm", self.prefix),
                    url: format!("http://127.0.0.1:{}/crm", rapport_kit::testing::free_port()),
                    description: "the CRM".into(),
                    ..Default::default()
                }),
                signing_secret: "0123456789abcdef0123456789abcdef".into(),
            }))
        .await;
        ok(c.score_changes
            .put_score_change_subscription(PutScoreChangeSubscriptionRequest {
                subscription: Some(ScoreChangeSubscription {
                    name: format!("{}-feed", self.prefix),
                    endpoint: format!("{}-crm", self.prefix),
                    description: "tiers to the CRM".into(),
                    kinds: vec![ScoreChangeKind::TierChanged as i32],
                    ..Default::default()
                }),
                start: WatchStart::Now as i32,
            }))
        .await;
        let report = ok(c.reports.start_report(StartReportRequest {
            request_id: format!("{}-report", self.prefix),
            rankings: Vec::new(),
        }))
        .await;
        self.report_run_id = report.run.expect("run").run_id;
        let sent = ok(c.notifications.send_notification(SendNotificationRequest {
            dedupe_key: format!("{}-welcome", self.prefix),
            customer_id: self.customer_id.clone(),
            channel: Channel::Webhook as i32,
            // Nothing listens there: the message stays pending, retried.
            destination: format!(
                "http://127.0.0.1:{}/hook",
                rapport_kit::testing::free_port()
            ),
            subject: self.secret.clone(),
            body: self.secret.clone(),
            ..Default::default()
        }))
        .await;
        self.notification_id = sent.notification.expect("notification").id;
        let policy = ContactPolicy {
            max_messages: 5,
            window_hours: 24,
            cool_down_hours: 1,
            quiet_start_hour: 22,
            quiet_end_hour: 6,
        };
        ok(c.notifications
            .update_contact_policy(UpdateContactPolicyRequest {
                policy: Some(policy),
            }))
        .await;
    }

    async fn pages(&mut self, c: &mut Clients) {
        let customers = ok(c.profiles.list_customers(ListCustomersRequest {
            page_size: 1,
            ..Default::default()
        }))
        .await;
        self.customers_page = customers.next_page_token;
        let transactions = ok(c.ingestion.list_transactions(ListTransactionsRequest {
            customer_id: self.customer_id.clone(),
            page_size: 1,
            ..Default::default()
        }))
        .await;
        self.transactions_page = transactions.next_page_token;
    }

    /// Makes a dead letter for tenant `tenant` (this world's): a purchase of
    /// a negative amount sent to scoring's ApplyChanges at `url` with the
    /// internal credential, under the change id `<prefix>-change`.
    pub async fn dead_letter(&self, url: &str, internal: &InternalCredentials, tenant: Uuid) {
        let channel = rapport_kit::internal::lazy_channel(url, Duration::from_secs(30)).unwrap();
        let change = ChangeEvent {
            id: format!("{}-change", self.prefix),
            customer_id: self.customer_id.clone(),
            change: Some(change_event::Change::Transaction(TransactionChange {
                kind: TransactionKind::Purchase as i32,
                occurred_at: Some(prost_types::Timestamp {
                    seconds: Utc::now().timestamp() - 86_400,
                    nanos: 0,
                }),
                amount_minor: -5,
                currency_code: "EUR".into(),
                ..Default::default()
            })),
        };
        let request = ApplyChangesRequest {
            changes: vec![change],
        };
        let done = ScoringServiceClient::new(channel)
            .apply_changes(internal.request(tenant, None, request))
            .await
            .expect("apply changes")
            .into_inner();
        assert_eq!(done.dead_lettered, 1, "{done:?}");
    }

    /// What of this tenant must never reach another tenant: its stored
    /// text and every id the server gave it.
    pub fn private(&self) -> Vec<String> {
        let mut all = vec![
            self.secret.clone(),
            self.customer_id.clone(),
            self.parent_id.clone(),
            self.child_id.clone(),
            self.rule_id.clone(),
            self.notification_id.clone(),
            self.key_id.clone(),
        ];
        all.retain(|s| !s.is_empty());
        all
    }
}
