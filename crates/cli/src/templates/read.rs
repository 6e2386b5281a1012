//! Reading templates back: the tenant's templates, and one rendered for a
//! customer as it would be sent.

use rapport_proto::v1::{ListTemplatesRequest, PreviewTemplateRequest};

use crate::{
    channel,
    client::{Clients, answer},
};

/// Prints every template of the tenant, a page at a time.
pub(super) async fn list(clients: &mut Clients) -> anyhow::Result<()> {
    let mut token = String::new();
    loop {
        let page = answer(
            clients
                .notifications
                .list_templates(ListTemplatesRequest {
                    page_size: 100,
                    page_token: token,
                })
                .await,
        )?;
        for t in &page.templates {
            println!(
                "{:<24} {:<8} {:<8} v{}{}",
                t.name,
                channel::name(t.channel),
                t.locale,
                t.version,
                if t.default_locale { "  (default)" } else { "" }
            );
        }
        if page.next_page_token.is_empty() {
            return Ok(());
        }
        token = page.next_page_token;
    }
}

/// Prints template `name` on `channel_name` rendered for `customer`, with
/// `data` as `data.*`.
pub(super) async fn preview(
    clients: &mut Clients,
    name: String,
    channel_name: &str,
    locale: String,
    customer: String,
    data: Vec<(String, String)>,
) -> anyhow::Result<()> {
    let r = answer(
        clients
            .notifications
            .preview_template(PreviewTemplateRequest {
                name,
                channel: channel::parse(channel_name)? as i32,
                locale,
                customer_id: customer,
                data: data.into_iter().collect(),
            })
            .await,
    )?;
    if !r.subject.is_empty() {
        println!("Subject: {}\n", r.subject);
    }
    println!("{}", r.body);
    Ok(())
}
