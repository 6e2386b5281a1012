//! Profiles down for a while with notifications waiting to go out: the
//! consent check cannot be made, so nothing is sent, nothing uses up an
//! attempt, and everything goes out once Profiles is back.

use std::time::{Duration, Instant};

use rapport::import::{ImportOptions, import_customers};
use rapport_kit::{
    domain::chrono_to_timestamp,
    testing::{Receiver, fresh_postgres, ok, redis_url},
};
use rapport_proto::v1::{
    Channel, ExternalIdentity, LookupCustomerRequest, Purpose, SendNotificationRequest,
};

use crate::{
    data::Data,
    support::{Stack, figure, notification_statuses, size, webhook_secret},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_down_dead_letters_no_notification() {
    let data = Data::new(size(200, 1_000));
    let (customers_csv, _) = data.write();
    let hook = Receiver::start().await;
    // Three attempts with sub-second back-off: were a failed consent check
    // an attempt, every message would be dead-lettered within seconds.
    let env = [("RAPPORT_NOTIFY__MAX_ATTEMPTS", "3")];
    let mut stack = Stack::start(&fresh_postgres().await, &redis_url(), &env).await;
    let mut c = stack.clients(&stack.tenant("acme"));
    import_customers(&mut c, &customers_csv, &ImportOptions::default())
        .await
        .expect("customers");
    webhook_secret(&mut c).await;
    let send_at = chrono::Utc::now() + chrono::Duration::seconds(3);
    for n in 0..data.customers {
        let customer = ok(c.profiles.lookup_customer(LookupCustomerRequest {
            identity: Some(ExternalIdentity {
                source: "erp".into(),
                external_id: format!("C{n}"),
            }),
        }))
        .await
        .customer
        .expect("customer");
        ok(c.notifications.send_notification(SendNotificationRequest {
            dedupe_key: format!("order-{n}"),
            customer_id: customer.id,
            channel: Channel::Webhook as i32,
            destination: hook.url("/orders"),
            subject: "order shipped".into(),
            body: format!("{{\"order\": {n}}}"),
            purpose: Purpose::Transactional as i32,
            send_at: Some(chrono_to_timestamp(send_at)),
            ..SendNotificationRequest::default()
        }))
        .await;
    }
    stack.kill9("profiles").await;
    let killed = Instant::now();
    let outage = Duration::from_secs(size(20, 180));
    tokio::time::sleep(outage).await;
    let during = notification_statuses(&mut c).await;
    let sent_during = hook.calls().len();
    stack.restart("profiles").await;
    let down = killed.elapsed();

    let deadline = Instant::now() + Duration::from_secs(120);
    while hook.accepted().len() < data.customers && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let back = Instant::now();
    let after = notification_statuses(&mut c).await;
    let dead = after
        .get("NOTIFICATION_STATUS_DEAD_LETTER")
        .copied()
        .unwrap_or(0);
    figure(
        "profiles down",
        format!(
            "{} notifications in flight, Profiles down {:.0} s: {sent_during} sent while \
             down, {dead} dead-lettered, {} delivered (the last {:.1} s after it returned); \
             statuses while down {during:?}, after {after:?}",
            data.customers,
            down.as_secs_f64(),
            hook.accepted().len(),
            back.duration_since(killed + down).as_secs_f64(),
        ),
    );
    assert_eq!(sent_during, 0, "nothing goes out unchecked");
    assert_eq!(dead, 0, "{after:?}");
    assert_eq!(hook.accepted().len(), data.customers, "{after:?}");
    stack.stop().await;
}
