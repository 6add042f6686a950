//! Endpoint health: a run of failed attempts turns a webhook UNHEALTHY, a
//! success turns it HEALTHY again, and failing for longer than
//! `DISABLE_AFTER_SECONDS` (or answering 410 Gone) disables it. Every
//! change is a `WEBHOOK_STATUS_CHANGED` event and a notice in the webhook
//! creator's own conversation.
//!
//! Counters move with SQL arithmetic inside the attempt's transaction, so
//! concurrent attempts on one webhook neither lose counts nor announce a
//! transition twice (the row is locked until commit).

use chrono::{DateTime, Utc};
use entity::webhook;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Func},
};

use super::sender::Attempt;
use crate::{
    config::Settings,
    domain::change::Change,
    domain::{
        conversations,
        messages::{self, Author, NewMessage},
        webhooks::{HEALTHY, UNHEALTHY, webhook_json},
    },
    error::AppResult,
    events::types,
};

/// Whether a success would change `webhook`'s health: it has a run of
/// failures or is UNHEALTHY. The same test as [`after_successes`]' filter,
/// for a webhook already in memory: a success on any other needs no write.
pub fn is_failing(webhook: &webhook::Model) -> bool {
    webhook.consecutive_failures != 0 || webhook.status != HEALTHY
}

/// Marks webhooks that just had a successful delivery healthy, within
/// `change`: one UPDATE for all of them, touching only those with a streak
/// or an UNHEALTHY status; those that were UNHEALTHY announce the change.
pub async fn after_successes(change: &mut Change<'_>, webhook_ids: &[String]) -> AppResult<()> {
    if webhook_ids.is_empty() {
        return Ok(());
    }
    let reset = webhook::Entity::update_many()
        .col_expr(webhook::Column::ConsecutiveFailures, Expr::value(0))
        .col_expr(
            webhook::Column::FailingSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(webhook::Column::Id.is_in(webhook_ids.iter().cloned()))
        .filter(
            Condition::any()
                .add(webhook::Column::ConsecutiveFailures.ne(0))
                .add(webhook::Column::Status.ne(HEALTHY)),
        )
        .exec_with_returning(&**change)
        .await?;
    for hook in reset {
        if hook.status == UNHEALTHY {
            let text = format!(
                "Webhook \u{201c}{}\u{201d} ({}) is HEALTHY again: a delivery succeeded.",
                hook.name, hook.url
            );
            transition(change, hook, Some(HEALTHY), None, text).await?;
        }
    }
    Ok(())
}

/// Updates `webhook_id`'s health after a failed `attempt`, within `change`
/// (successes go through [`after_successes`]).
pub async fn after_attempt(
    change: &mut Change<'_>,
    settings: &Settings,
    webhook_id: &str,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> AppResult<()> {
    webhook::Entity::update_many()
        .col_expr(
            webhook::Column::ConsecutiveFailures,
            Expr::col(webhook::Column::ConsecutiveFailures).add(1),
        )
        // The run of failures starts with the first one.
        .col_expr(
            webhook::Column::FailingSince,
            Func::coalesce([Expr::col(webhook::Column::FailingSince), Expr::value(now)]).into(),
        )
        .filter(webhook::Column::Id.eq(webhook_id))
        .exec(&**change)
        .await?;
    let Some(hook) = webhook::Entity::find_by_id(webhook_id)
        .one(&**change)
        .await?
    else {
        return Ok(());
    };
    if !hook.enabled {
        return Ok(());
    }
    let why = attempt.error.as_deref().unwrap_or("the attempt failed");
    let failing_for = now - hook.failing_since.unwrap_or(now);
    let window = chrono::Duration::seconds(settings.disable_after_seconds as i64);
    if attempt.status == Some(410) {
        let text = format!(
            "Webhook \u{201c}{}\u{201d} ({}) was disabled: the receiver answered 410 Gone. \
             Enable it again once the endpoint exists.",
            hook.name, hook.url
        );
        transition(change, hook, Some(UNHEALTHY), Some(false), text).await?;
    } else if failing_for >= window {
        let text = format!(
            "Webhook \u{201c}{}\u{201d} ({}) was disabled: no delivery has succeeded since {} \
             ({} failed attempts in a row; last error: {why}).",
            hook.name,
            hook.url,
            hook.failing_since.unwrap_or(now).to_rfc3339(),
            hook.consecutive_failures
        );
        transition(change, hook, Some(UNHEALTHY), Some(false), text).await?;
    } else if hook.status == HEALTHY
        && hook.consecutive_failures >= settings.unhealthy_after_failures as i32
    {
        let text = format!(
            "Webhook \u{201c}{}\u{201d} ({}) is UNHEALTHY: {} deliveries in a row failed \
             (last error: {why}). Junction keeps retrying.",
            hook.name, hook.url, hook.consecutive_failures
        );
        transition(change, hook, Some(UNHEALTHY), None, text).await?;
    }
    Ok(())
}

/// Applies a status and/or enabled change, records the event and posts
/// the notice.
async fn transition(
    change: &mut Change<'_>,
    before: webhook::Model,
    status: Option<&str>,
    enabled: Option<bool>,
    notice: String,
) -> AppResult<()> {
    let mut active: webhook::ActiveModel = before.clone().into();
    if let Some(status) = status {
        active.status = Set(status.to_owned());
    }
    if let Some(enabled) = enabled {
        active.enabled = Set(enabled);
    }
    active.updated_at = Set(crate::domain::ids::now());
    let after = active.update(&**change).await?;
    tracing::info!(
        webhook = %after.id,
        status = %after.status,
        enabled = after.enabled,
        "webhook status changed"
    );
    change.emit(
        types::WEBHOOK_STATUS_CHANGED,
        None,
        webhook_json(&after),
        Some(webhook_json(&before)),
    );
    if let Some(creator) = &after.created_by_id {
        let conversation =
            conversations::notices_conversation(change, &after.organization_id, creator).await?;
        let author = Author::Integration {
            id: after.id.clone(),
            name: "Junction".to_owned(),
        };
        let message = NewMessage {
            text: notice,
            mentions: Vec::new(),
            sealed: false,
        };
        messages::insert_message(change, &conversation, author, message).await?;
    }
    Ok(())
}
