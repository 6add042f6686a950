use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::webhook;

use crate::graphql::ContextExt;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum WebhookStatus {
    Healthy,
    Unhealthy,
}

/// Which events, from which projects, a webhook receives; empty means all.
#[derive(SimpleObject)]
pub struct WebhookMetadata {
    pub events: Vec<String>,
    pub project_ids: Vec<ID>,
}

/// An outbound webhook (Blue's shape). Only admins see webhooks.
pub struct Webhook(pub webhook::Model);

fn strings(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

#[Object]
impl Webhook {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn uid(&self) -> &str {
        &self.0.uid
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// The signing secret (admins only, like every webhook field).
    async fn secret(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(crate::domain::webhooks::secret_of(ctx.app(), &self.0)?)
    }
    async fn status(&self) -> WebhookStatus {
        if self.0.status == crate::domain::webhooks::UNHEALTHY {
            WebhookStatus::Unhealthy
        } else {
            WebhookStatus::Healthy
        }
    }
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    async fn metadata(&self) -> WebhookMetadata {
        WebhookMetadata {
            events: strings(&self.0.events),
            project_ids: strings(&self.0.project_ids).into_iter().map(ID).collect(),
        }
    }
    async fn created_by_id(&self) -> Option<ID> {
        self.0.created_by_id.clone().map(ID)
    }
    /// Failed attempts since the last success.
    async fn consecutive_failures(&self) -> i32 {
        self.0.consecutive_failures
    }
    /// When the current run of failures began; null while healthy.
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }
    /// Until when the secret replaced by the last rotation still signs
    /// deliveries (alongside the current one).
    async fn previous_secret_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0
            .previous_secret_expires_at
            .filter(|until| *until > Utc::now())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => crate::domain::outbox::PENDING,
            DeliveryStatus::Succeeded => crate::domain::outbox::SUCCEEDED,
            DeliveryStatus::Failed => crate::domain::outbox::FAILED,
        }
    }
}

/// One event owed to one webhook. `id` is the `webhook-id` header of every
/// attempt.
pub struct Delivery(pub entity::delivery::Model);

#[Object]
impl Delivery {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn webhook_id(&self) -> ID {
        ID(self.0.webhook_id.clone())
    }
    async fn event_id(&self) -> ID {
        ID(self.0.event_id.clone())
    }
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    async fn status(&self) -> DeliveryStatus {
        match self.0.status.as_str() {
            crate::domain::outbox::SUCCEEDED => DeliveryStatus::Succeeded,
            crate::domain::outbox::FAILED => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        }
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_attempt_at
    }
    async fn last_status_code(&self) -> Option<i32> {
        self.0.last_status_code
    }
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One HTTP attempt at a delivery: what the receiver answered, or why
/// nothing came back.
pub struct DeliveryAttempt(pub entity::delivery_attempt::Model);

#[Object]
impl DeliveryAttempt {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn delivery_id(&self) -> ID {
        ID(self.0.delivery_id.clone())
    }
    /// 1 for the first try (counting restarts at a redelivery).
    async fn attempt(&self) -> i32 {
        self.0.attempt
    }
    /// Null when no response came (timeout, refused connection, …).
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }
    async fn latency_ms(&self) -> i32 {
        self.0.latency_ms
    }
    /// The first kilobyte of the response body.
    async fn response_excerpt(&self) -> &str {
        &self.0.response_excerpt
    }
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
