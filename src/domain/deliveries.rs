//! Deliveries as admins see and steer them: the log of a webhook's
//! deliveries and their attempts, redelivery, and a test ping.

use chrono::{DateTime, Utc};
use entity::{delivery, delivery_attempt, webhook};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde_json::json;

use super::{
    Ctx,
    change::Change,
    ids,
    outbox::{FAILED, PENDING, status_is},
    pagination::{Direction, Page, PageRequest, fetch_page},
    scoped::find_by_id,
    webhooks::webhook_for_admin,
};
use crate::{
    auth::Principal,
    error::{AppError, AppResult},
    events::types,
};

/// A webhook's deliveries, newest first, optionally of one status (admins).
pub async fn list_deliveries(
    app: &Ctx,
    who: &Principal,
    webhook_id: &str,
    status: Option<&'static str>,
    page: &PageRequest,
) -> AppResult<Page<delivery::Model>> {
    let webhook = webhook_for_admin(&app.db, who, webhook_id).await?;
    let mut select = delivery::Entity::find().filter(delivery::Column::WebhookId.eq(&webhook.id));
    if let Some(status) = status {
        select = select.filter(status_is(status));
    }
    fetch_page(
        &app.db,
        select,
        delivery::Column::Id,
        Direction::Descending,
        page,
    )
    .await
}

/// A delivery of the caller's organization (admins).
pub async fn delivery_for_admin(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
) -> AppResult<delivery::Model> {
    who.require_admin()?;
    find_by_id::<delivery::Entity>(
        conn,
        id,
        "delivery",
        Some((delivery::Column::OrganizationId, &who.organization_id)),
    )
    .await
}

/// A delivery's attempts, oldest first (admins).
pub async fn list_attempts(
    app: &Ctx,
    who: &Principal,
    delivery_id: &str,
) -> AppResult<Vec<delivery_attempt::Model>> {
    let delivery = delivery_for_admin(&app.db, who, delivery_id).await?;
    Ok(delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::DeliveryId.eq(&delivery.id))
        .order_by_asc(delivery_attempt::Column::CreatedAt)
        .order_by_asc(delivery_attempt::Column::Id)
        .all(&app.db)
        .await?)
}

/// A delivery made due again from the start of the retry schedule.
fn reset(delivery: delivery::Model) -> delivery::ActiveModel {
    let now = ids::now();
    let mut active: delivery::ActiveModel = delivery.into();
    active.status = Set(PENDING.to_owned());
    active.attempts = Set(0);
    active.next_attempt_at = Set(Some(now));
    active.locked_until = Set(None);
    active.updated_at = Set(now);
    active
}

fn require_enabled(webhook: &webhook::Model) -> AppResult<()> {
    if webhook.enabled {
        Ok(())
    } else {
        Err(AppError::validation(
            "the webhook is disabled; enable it before redelivering",
        ))
    }
}

/// Sends a delivery again, whatever became of it (admins). The receiver
/// sees the same `webhook-id`, so it can tell a redelivery from news.
#[tracing::instrument(skip_all, fields(org = %who.organization_id, delivery = delivery_id))]
pub async fn redeliver(
    app: &Ctx,
    who: &Principal,
    delivery_id: &str,
) -> AppResult<delivery::Model> {
    let mut change = Change::begin(app, who).await?;
    let delivery = delivery_for_admin(&*change, who, delivery_id).await?;
    require_enabled(&webhook_for_admin(&*change, who, &delivery.webhook_id).await?)?;
    if delivery
        .locked_until
        .is_some_and(|until| until > Utc::now())
    {
        return Err(AppError::conflict(
            "an attempt at this delivery is in flight",
        ));
    }
    let updated = reset(delivery).update(&*change).await?;
    change.requeue([&updated]);
    change.commit().await?;
    app.deliveries.publish(std::slice::from_ref(&updated)).await;
    Ok(updated)
}

/// Sends again every delivery of a webhook that failed since `since`
/// (admins); returns how many.
#[tracing::instrument(skip_all, fields(org = %who.organization_id, webhook = webhook_id))]
pub async fn redeliver_failed(
    app: &Ctx,
    who: &Principal,
    webhook_id: &str,
    since: DateTime<Utc>,
) -> AppResult<usize> {
    let mut change = Change::begin(app, who).await?;
    let webhook = webhook_for_admin(&*change, who, webhook_id).await?;
    require_enabled(&webhook)?;
    let failed = delivery::Entity::find()
        .filter(delivery::Column::WebhookId.eq(&webhook.id))
        .filter(status_is(FAILED))
        .filter(delivery::Column::UpdatedAt.gte(since))
        .all(&*change)
        .await?;
    let mut updated = Vec::with_capacity(failed.len());
    for delivery in failed {
        updated.push(reset(delivery).update(&*change).await?);
    }
    change.requeue(&updated);
    change.commit().await?;
    app.deliveries.publish(&updated).await;
    Ok(updated.len())
}

/// Sends a `WEBHOOK_PING` event to one webhook, whatever its filters say
/// (admins), and returns the delivery to watch.
#[tracing::instrument(skip_all, fields(org = %who.organization_id, webhook = webhook_id))]
pub async fn test_webhook(
    app: &Ctx,
    who: &Principal,
    webhook_id: &str,
) -> AppResult<delivery::Model> {
    let mut change = Change::begin(app, who).await?;
    let webhook = webhook_for_admin(&*change, who, webhook_id).await?;
    let ping = json!({
        "message": "A test delivery from Junction",
        "webhookId": webhook.id,
        "requestedById": who.user_id,
    });
    let event = change.record(types::WEBHOOK_PING, None, ping, None).await?;
    let delivery = change.deliver(&webhook, &event).await?;
    change.commit().await?;
    Ok(delivery)
}
