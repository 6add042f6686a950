//! A `send_to_web` channel's outbound webhook: where it forwards to, and
//! keeping the webhook in line with the channel.

use entity::{integration_point, webhook};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, ModelTrait};

use super::SEND_TO_WEB;
use crate::{
    auth::Principal,
    domain::{
        Ctx,
        change::Change,
        ids,
        webhooks::{self, WebhookRow},
    },
    error::{AppError, AppResult},
    events::types,
    secrets::purpose,
    signature,
};

/// Where `send_to_web` forwards to, checked like any webhook target (SSRF
/// guard); `None` when the channel does not forward.
pub(super) async fn forwarding_target(
    app: &Ctx,
    active: &integration_point::ActiveModel,
) -> AppResult<Option<String>> {
    let sends = matches!(&active.send_svcscriptcode, sea_orm::ActiveValue::Set(s) | sea_orm::ActiveValue::Unchanged(s) if s == SEND_TO_WEB);
    if !sends {
        return Ok(None);
    }
    let url = match &active.url {
        sea_orm::ActiveValue::Set(u) | sea_orm::ActiveValue::Unchanged(u) => u.clone(),
        _ => String::new(),
    };
    if url.trim().is_empty() {
        return Err(AppError::validation("`send_to_web` needs a `url`"));
    }
    Ok(Some(webhooks::check_url(app, &url).await?))
}

/// Brings the channel's own webhook in line: created, re-pointed or removed.
pub(super) async fn sync_webhook(
    change: &mut Change<'_>,
    who: &Principal,
    channel: integration_point::Model,
    target: Option<String>,
) -> AppResult<integration_point::Model> {
    let existing = match &channel.webhook_id {
        Some(id) => {
            webhook::Entity::find_by_id(id.clone())
                .one(&**change)
                .await?
        }
        None => None,
    };
    let secret = if channel.token_remote.is_empty() {
        None
    } else {
        Some(channel.token_remote.clone())
    };
    let webhook_id = match (target, existing) {
        (None, None) => None,
        (None, Some(hook)) => {
            hook.delete(&**change).await?;
            None
        }
        (Some(url), Some(hook)) => {
            let mut active: webhook::ActiveModel = hook.clone().into();
            active.url = Set(url);
            if let Some(secret) = secret {
                active.secret = Set(change.ctx().secrets.seal(purpose::WEBHOOK_SECRET, &secret));
            }
            active.project_ids = Set(serde_json::json!([channel.project_id]));
            active.updated_at = Set(ids::now());
            Some(active.update(&**change).await?.id)
        }
        (Some(url), None) => {
            let row = WebhookRow {
                name: format!(
                    "Channel {}",
                    if channel.code.is_empty() {
                        &channel.id
                    } else {
                        &channel.code
                    }
                ),
                url,
                secret: secret.unwrap_or_else(signature::generate_secret),
                enabled: true,
                events: vec![types::MESSAGE_CREATED.to_owned()],
                project_ids: vec![channel.project_id.clone()],
                channel_id: Some(channel.id.clone()),
            };
            Some(webhooks::insert_webhook(change, who, row).await?.id)
        }
    };
    if webhook_id == channel.webhook_id {
        return Ok(channel);
    }
    let mut active: integration_point::ActiveModel = channel.clone().into();
    active.webhook_id = Set(webhook_id.clone());
    active.update(&**change).await?;
    Ok(integration_point::Model {
        webhook_id,
        ..channel
    })
}
