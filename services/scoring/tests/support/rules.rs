//! Helpers of the rules suites: clients for RulesService and notifications,
//! definitions built in one call, and a rules round run on demand.

use std::time::Duration;

use rapport_kit::{
    internal::BearerAuth,
    testing::{Backend, ok},
};
use rapport_proto::v1::{
    Channel, CreateRuleRequest, Firing, ListFiringsRequest, NotifyAction, PublishRuleRequest,
    Purpose, Rule, RuleAction, RuleDefinition, RuleTrigger, SetTierAction, TagAction,
    WebhookAction, notifications_service_client::NotificationsServiceClient, rule_action,
    rules_service_client::RulesServiceClient,
};
use rapport_scoring::RulesOptions;
use tonic::{service::interceptor::InterceptedService, transport::Channel as TonicChannel};

use super::{Harness, start_all};

/// RulesService for an API key.
pub type RulesClient = RulesServiceClient<InterceptedService<TonicChannel, BearerAuth>>;
/// NotificationsService for an API key.
pub type NotifyClient = NotificationsServiceClient<InterceptedService<TonicChannel, BearerAuth>>;

/// Scoring (with notifications and profiles on the same server), the rules
/// worker not running: tests run rounds with [`round`].
pub async fn start(backend: Backend) -> Harness {
    let config = rapport_kit::testing::config(backend).await;
    start_all(config, None, None).await
}

/// Options of the rounds tests run.
pub fn options() -> RulesOptions {
    RulesOptions {
        poll: Duration::from_millis(20),
        lease: Duration::from_secs(60),
        schedule_interval: Duration::from_secs(3_600),
        batch: 50,
        ..RulesOptions::default()
    }
}

/// One rules round: the queued work, then due periodic passes.
pub async fn round(h: &Harness) {
    round_with(h, options()).await;
}

/// One rules round with `options`.
pub async fn round_with(h: &Harness, options: RulesOptions) {
    h.scoring
        .run_rules_once(options)
        .await
        .expect("rules round");
}

impl Harness {
    /// RulesService for `api_key`.
    pub fn rules(&self, api_key: &str) -> RulesClient {
        RulesServiceClient::with_interceptor(self.ts.channel(), BearerAuth::new(api_key).unwrap())
    }

    /// A new tenant `name` (in euros) and a RulesService client for its API
    /// key.
    pub async fn rules_tenant(&self, name: &str) -> (rapport_kit::tenants::Tenant, RulesClient) {
        let (tenant, key) = self.ts.tenant(name, "EUR").await;
        (tenant, self.rules(&key))
    }

    /// A new tenant set up to contact customers: its API key, with a
    /// webhook signing secret in place (webhooks are refused without one).
    pub async fn contact_tenant(&self, name: &str) -> (rapport_kit::tenants::Tenant, String) {
        let (tenant, key) = self.ts.tenant(name, "EUR").await;
        self.notifications(&key)
            .rotate_webhook_secret(rapport_proto::v1::RotateWebhookSecretRequest {})
            .await
            .expect("webhook signing secret");
        self.register_endpoint(&key, "crm", "http://127.0.0.1:9/hook")
            .await;
        (tenant, key)
    }

    /// Registers integration endpoint `name` posting to `url`.
    pub async fn register_endpoint(&self, key: &str, name: &str, url: &str) {
        self.register_endpoint_with(key, name, url, "0123456789abcdef0123456789abcdef")
            .await;
    }

    /// Registers integration endpoint `name` posting to `url`, signing with
    /// `secret`.
    pub async fn register_endpoint_with(&self, key: &str, name: &str, url: &str, secret: &str) {
        self.notifications(key)
            .put_integration_endpoint(rapport_proto::v1::PutIntegrationEndpointRequest {
                endpoint: Some(rapport_proto::v1::IntegrationEndpoint {
                    name: name.into(),
                    url: url.into(),
                    description: "the tenant's CRM (test)".into(),
                    ..Default::default()
                }),
                signing_secret: secret.into(),
            })
            .await
            .expect("register the integration endpoint");
    }

    /// NotificationsService for `api_key`.
    pub fn notifications(&self, api_key: &str) -> NotifyClient {
        NotificationsServiceClient::with_interceptor(
            self.ts.channel(),
            BearerAuth::new(api_key).unwrap(),
        )
    }
}

/// A definition with one tag action.
pub fn definition(name: &str, trigger: RuleTrigger, condition: &str) -> RuleDefinition {
    RuleDefinition {
        name: name.to_owned(),
        description: format!("{name} (test)"),
        condition: condition.to_owned(),
        trigger: trigger as i32,
        event_kinds: Vec::new(),
        actions: vec![tag("matched")],
        topic: String::new(),
        holdout_percent: 0,
        audience: String::new(),
    }
}

/// A tag action.
pub fn tag(tag: &str) -> RuleAction {
    RuleAction {
        action: Some(rule_action::Action::Tag(TagAction { tag: tag.into() })),
    }
}

/// A set-tier action.
pub fn set_tier(tier: &str) -> RuleAction {
    RuleAction {
        action: Some(rule_action::Action::SetTier(SetTierAction {
            tier: tier.into(),
        })),
    }
}

/// A webhook action posting to the integration endpoint `endpoint`.
pub fn webhook(endpoint: &str) -> RuleAction {
    RuleAction {
        action: Some(rule_action::Action::Webhook(WebhookAction {
            endpoint: endpoint.into(),
            ..Default::default()
        })),
    }
}

/// An email notify action.
pub fn email(template: &str, purpose: Purpose) -> RuleAction {
    notify_action(email_notice(template, purpose))
}

/// An email of `template` for `purpose`, sent at once.
pub fn email_notice(template: &str, purpose: Purpose) -> NotifyAction {
    NotifyAction {
        channel: Channel::Email as i32,
        template: template.into(),
        purpose: purpose as i32,
        ..Default::default()
    }
}

/// A notify action.
pub fn notify_action(notice: NotifyAction) -> RuleAction {
    RuleAction {
        action: Some(rule_action::Action::Notify(notice)),
    }
}

/// Creates and publishes `d`; returns the rule.
pub async fn publish(client: &mut RulesClient, d: RuleDefinition) -> Rule {
    let create = CreateRuleRequest {
        request_id: format!("create-{}", d.name),
        author: "tester".into(),
        definition: Some(d),
    };
    let rule = ok(client.create_rule(create)).await.rule.unwrap();
    let publish = PublishRuleRequest {
        rule_id: rule.id,
        version: 1,
    };
    ok(client.publish_rule(publish)).await.rule.unwrap()
}

/// Every firing of a rule, newest first.
pub async fn firings(client: &mut RulesClient, rule: &str) -> Vec<Firing> {
    let request = ListFiringsRequest {
        rule_id: rule.into(),
        page_size: 1_000,
        ..Default::default()
    };
    ok(client.list_firings(request)).await.firings
}

/// Grants `customers` consent to be contacted on `channel`.
pub async fn consent(h: &Harness, key: &str, customers: &[uuid::Uuid], channel: Channel) {
    use rapport_proto::v1::{SetConsentRequest, profiles_service_client::ProfilesServiceClient};
    let mut profiles =
        ProfilesServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(key).unwrap());
    for c in customers {
        profiles
            .set_consent(SetConsentRequest {
                customer_id: c.to_string(),
                channel: channel as i32,
                granted: true,
                at: None,
            })
            .await
            .expect("set consent");
    }
}

/// The notifications stored for the tenant of `notify`, newest first: all of
/// them, or one customer's.
pub async fn notifications_of(
    notify: &mut NotifyClient,
    customer: Option<&str>,
) -> Vec<rapport_proto::v1::Notification> {
    let request = rapport_proto::v1::ListNotificationsRequest {
        customer_id: customer.unwrap_or_default().to_owned(),
        page_size: 1_000,
        ..Default::default()
    };
    ok(notify.list_notifications(request)).await.notifications
}
