//! Requests of the notifications service: messages, templates, the contact
//! policy, the webhook secret and integration endpoints.

use prost::Message;
use rapport_proto::v1::*;

use super::at;
use crate::world::World;

/// The request of a `NotificationsService` method.
pub(super) fn seed(method: &str, w: &World) -> Option<Vec<u8>> {
    let (name, channel, locale) = (w.template.clone(), Channel::Email as i32, "en".to_owned());
    let bytes = match method {
        "NotificationsService/SendNotification" => SendNotificationRequest {
            dedupe_key: format!("{}-offer", w.prefix),
            customer_id: w.customer_id.clone(),
            channel: Channel::Webhook as i32,
            destination: "http://127.0.0.1:9/offer".into(),
            subject: "Offer".into(),
            body: "10% off".into(),
            data: [("offer".to_owned(), "10%".to_owned())].into(),
            purpose: Purpose::Marketing as i32,
            send_at: at(1_767_225_600 + 86_400 * 365 * 5),
            ..Default::default()
        }
        .encode_to_vec(),
        "NotificationsService/GetNotification" => GetNotificationRequest {
            notification_id: w.notification_id.clone(),
        }
        .encode_to_vec(),
        "NotificationsService/ListNotifications" => ListNotificationsRequest {
            customer_id: w.customer_id.clone(),
            page_size: 5,
            page_token: String::new(),
        }
        .encode_to_vec(),
        "NotificationsService/PutTemplate" => PutTemplateRequest {
            template: Some(Template {
                name,
                channel,
                locale: "de".into(),
                subject: "Hallo {{customer.display_name}}".into(),
                body: "Angebot: {{data.offer}}".into(),
                required_data: vec!["offer".into()],
                ..Default::default()
            }),
        }
        .encode_to_vec(),
        "NotificationsService/GetTemplate" => GetTemplateRequest {
            name,
            channel,
            locale,
        }
        .encode_to_vec(),
        "NotificationsService/ListTemplates" => ListTemplatesRequest {
            page_size: 5,
            page_token: String::new(),
        }
        .encode_to_vec(),
        "NotificationsService/DeleteTemplate" => DeleteTemplateRequest {
            name,
            channel,
            locale,
        }
        .encode_to_vec(),
        "NotificationsService/PreviewTemplate" => PreviewTemplateRequest {
            name,
            channel,
            locale,
            customer_id: w.customer_id.clone(),
            data: [("offer".to_owned(), "10%".to_owned())].into(),
        }
        .encode_to_vec(),
        "NotificationsService/GetContactPolicy" => GetContactPolicyRequest {}.encode_to_vec(),
        "NotificationsService/UpdateContactPolicy" => UpdateContactPolicyRequest {
            policy: Some(ContactPolicy {
                max_messages: 3,
                window_hours: 48,
                cool_down_hours: 2,
                quiet_start_hour: 21,
                quiet_end_hour: 7,
            }),
        }
        .encode_to_vec(),
        "NotificationsService/RotateWebhookSecret" => RotateWebhookSecretRequest {}.encode_to_vec(),
        "NotificationsService/PutIntegrationEndpoint" => PutIntegrationEndpointRequest {
            endpoint: Some(IntegrationEndpoint {
                name: format!("{}-crm", w.prefix),
                url: "http://127.0.0.1:9/crm".into(),
                description: "the CRM".into(),
                ..Default::default()
            }),
            signing_secret: "0123456789abcdef0123456789abcdef".into(),
        }
        .encode_to_vec(),
        "NotificationsService/GetIntegrationEndpoint" => GetIntegrationEndpointRequest {
            name: format!("{}-crm", w.prefix),
        }
        .encode_to_vec(),
        "NotificationsService/ListIntegrationEndpoints" => {
            ListIntegrationEndpointsRequest {}.encode_to_vec()
        }
        "NotificationsService/DeleteIntegrationEndpoint" => DeleteIntegrationEndpointRequest {
            name: format!("{}-crm", w.prefix),
        }
        .encode_to_vec(),
        _ => return None,
    };
    Some(bytes)
}
