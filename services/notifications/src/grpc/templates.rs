//! The template RPCs: save a version, get, page through, delete and preview.

use rapport_proto::v1 as pb;

use super::{Call, audit};
use crate::{
    error::Error,
    model::channel_name,
    personalise::{Ready, resolve},
    repo::TemplateKey,
    validate,
};

/// The key of one template as a get or delete names it.
fn key<'a>(name: &'a str, channel: i32, locale: &'a str) -> Result<TemplateKey<'a>, Error> {
    let channel = validate::template_key(name, channel, locale)?;
    Ok(TemplateKey {
        name,
        channel: channel_name(channel),
        locale,
    })
}

/// Saves a template as a new version unless the content is unchanged.
pub(super) async fn put(
    c: Call<'_>,
    req: pb::PutTemplateRequest,
) -> Result<pb::PutTemplateResponse, Error> {
    let template = validate::template(req.template)?;
    let (stored, created) = c.repo.put_template(c.tenant, template).await?;
    if created {
        let (target, summary) = audit::template_saved(&stored);
        rapport_kit::audit::record(c.ctx, target, summary).await;
    }
    Ok(pb::PutTemplateResponse {
        template: Some(stored.into_proto()),
        created,
    })
}

/// The latest version of one template, exactly as keyed (no fallback).
pub(super) async fn get(
    c: Call<'_>,
    req: pb::GetTemplateRequest,
) -> Result<pb::GetTemplateResponse, Error> {
    let key = key(&req.name, req.channel, &req.locale)?;
    let t = (c.repo)
        .template(c.tenant, key.name, key.channel, Some(key.locale))
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "template",
            id: req.name.clone(),
        })?;
    Ok(pb::GetTemplateResponse {
        template: Some(t.into_proto()),
    })
}

/// Deletes every version of a template.
pub(super) async fn delete(
    c: Call<'_>,
    req: pb::DeleteTemplateRequest,
) -> Result<pb::DeleteTemplateResponse, Error> {
    let key = key(&req.name, req.channel, &req.locale)?;
    let target = audit::template_target(key.name, key.channel, key.locale);
    let deleted = c.repo.delete_template(c.tenant, key).await?;
    if deleted {
        rapport_kit::audit::record(c.ctx, target, audit::template_deleted()).await;
    }
    Ok(pb::DeleteTemplateResponse { deleted })
}

/// A page of templates, ordered by name, channel and locale.
pub(super) async fn list(
    c: Call<'_>,
    req: pb::ListTemplatesRequest,
) -> Result<pb::ListTemplatesResponse, Error> {
    let page = validate::template_page(&req)?;
    let [name, channel, locale] = &page.after;
    let after = (name.as_str(), channel.as_str(), locale.as_str());
    let mut rows = c.repo.templates(c.tenant, after, page.size + 1).await?;
    let more = rows.len() > page.size as usize;
    rows.truncate(page.size as usize);
    let next_page_token = match rows.last() {
        Some(last) if more => validate::next_template_token(last),
        _ => String::new(),
    };
    Ok(pb::ListTemplatesResponse {
        templates: rows.into_iter().map(|t| t.into_proto()).collect(),
        next_page_token,
    })
}

/// Renders a template for a customer without sending.
pub(super) async fn preview(
    c: Call<'_>,
    req: pb::PreviewTemplateRequest,
) -> Result<pb::PreviewTemplateResponse, Error> {
    let (repo, peers, tenant) = (c.repo, c.peers, c.tenant);
    let p = validate::preview(&req)?;
    let template = resolve(repo, tenant, p.name, p.channel, p.locale).await?;
    let ready = Ready::new(template, p.data)?;
    let customer = match p.customer_id {
        Some(id) => Some(
            peers
                .customer(tenant, id)
                .await?
                .ok_or_else(|| Error::NotFound {
                    what: "customer",
                    id: id.to_string(),
                })?,
        ),
        None => None,
    };
    let (subject, body) = ready
        .render(peers, tenant, customer.as_ref(), p.data)
        .await?;
    Ok(pb::PreviewTemplateResponse {
        subject,
        body,
        template: Some(ready.template.into_proto()),
    })
}
