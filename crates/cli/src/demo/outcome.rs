//! What the demo's rule caused: its notifications by status (and why some
//! customers were not contacted), the first email as the mailbox received
//! it, and one firing as recorded.

use std::{collections::BTreeMap, time::Duration};

use rapport_proto::v1::{ListFiringsRequest, ListNotificationsRequest, NotificationStatus};

use super::mailbox::Mailbox;
use crate::client::Clients;

/// Waits for the contacted customers' emails to settle, then prints the
/// outcome per status, one email as received and one firing.
pub(super) async fn show(
    clients: &mut Clients,
    mailbox: &Mailbox,
    rule_id: &str,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let counts = loop {
        let counts = count_by_status(clients, rule_id).await?;
        let pending = counts.get("PENDING").copied().unwrap_or(0);
        if pending == 0 || tokio::time::Instant::now() > deadline {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    println!("  notifications the rule caused:");
    for (status, n) in &counts {
        println!("    {status:<28} {n:>5}");
    }
    print_first_mail(mailbox);
    print_a_firing(clients, rule_id).await
}

/// The rule's notifications by status, suppressed ones by their reason too.
async fn count_by_status(
    clients: &mut Clients,
    rule_id: &str,
) -> anyhow::Result<BTreeMap<String, u64>> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut token = String::new();
    loop {
        let page = clients
            .notifications
            .list_notifications(ListNotificationsRequest {
                page_size: 500,
                page_token: token,
                ..Default::default()
            })
            .await?
            .into_inner();
        for n in &page.notifications {
            if !n.origin.contains(rule_id) {
                continue;
            }
            let status = NotificationStatus::try_from(n.status)
                .map(|s| s.as_str_name().trim_start_matches("NOTIFICATION_STATUS_"))
                .unwrap_or("UNKNOWN")
                .to_owned();
            let label = if n.suppressed_reason.is_empty() {
                status
            } else {
                format!("{status} ({})", n.suppressed_reason)
            };
            *counts.entry(label).or_default() += 1;
        }
        if page.next_page_token.is_empty() {
            return Ok(counts);
        }
        token = page.next_page_token;
    }
}

fn print_first_mail(mailbox: &Mailbox) {
    let mails = mailbox.mails();
    println!(
        "  the demo's SMTP mailbox received {} emails; the first:",
        mails.len()
    );
    if let Some(mail) = mails.first() {
        println!("    To: {}", mail.to.join(", "));
        println!("    Subject: {}", mail.header("subject").unwrap_or(""));
        let body = if mail
            .header("content-transfer-encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"))
        {
            quoted_printable(mail.body())
        } else {
            mail.body().to_owned()
        };
        for line in body.lines().take(4) {
            println!("    | {line}");
        }
    }
}

async fn print_a_firing(clients: &mut Clients, rule_id: &str) -> anyhow::Result<()> {
    let firings = clients
        .rules
        .list_firings(ListFiringsRequest {
            rule_id: rule_id.to_owned(),
            page_size: 1,
            ..Default::default()
        })
        .await?
        .into_inner()
        .firings;
    if let Some(f) = firings.first() {
        let mut inputs: Vec<_> = f.inputs.iter().collect();
        inputs.sort();
        println!("  a firing as recorded (rule v{}):", f.rule_version);
        for (k, v) in inputs {
            println!("    {k} = {v}");
        }
        for a in &f.action_results {
            println!("    -> {a}");
        }
    }
    Ok(())
}

/// Undoes quoted-printable (RFC 2045): soft line breaks and `=XX` escapes.
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoted_printable_is_undone() {
        assert_eq!(
            super::quoted_printable("your next orde=\r\nr ships free =E2=82=AC5"),
            "your next order ships free \u{20ac}5"
        );
    }
}
