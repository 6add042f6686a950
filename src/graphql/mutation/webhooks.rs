use std::time::Duration;

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use crate::{
    domain::{
        deliveries,
        webhooks::{self, NewWebhook, WebhookPatch},
    },
    graphql::{
        ContextExt,
        types::{Delivery, Webhook},
    },
};

#[derive(InputObject)]
pub struct CreateWebhookInput {
    pub name: String,
    /// The payload URL; loopback and private addresses are refused unless
    /// the server allows private targets.
    pub url: String,
    /// Generated as `whsec_…` when omitted.
    pub secret: Option<String>,
    pub enabled: Option<bool>,
    /// Event types to send; empty means all.
    #[graphql(default)]
    pub events: Vec<String>,
    /// Projects to send events of; empty means all.
    #[graphql(default)]
    pub project_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct UpdateWebhookInput {
    pub name: Option<String>,
    pub url: Option<String>,
    pub secret: Option<String>,
    pub enabled: Option<bool>,
    pub events: Option<Vec<String>>,
    pub project_ids: Option<Vec<ID>>,
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Admins.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookInput,
    ) -> async_graphql::Result<Webhook> {
        let input = NewWebhook {
            name: input.name,
            url: input.url,
            secret: input.secret,
            enabled: input.enabled,
            events: input.events,
            project_ids: input.project_ids.into_iter().map(|i| i.0).collect(),
        };
        Ok(Webhook(
            webhooks::create_webhook(ctx.app(), ctx.principal()?, input).await?,
        ))
    }

    /// Admins.
    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWebhookInput,
    ) -> async_graphql::Result<Webhook> {
        let patch = WebhookPatch {
            name: input.name,
            url: input.url,
            secret: input.secret,
            enabled: input.enabled,
            events: input.events,
            project_ids: input
                .project_ids
                .map(|ids| ids.into_iter().map(|i| i.0).collect()),
        };
        Ok(Webhook(
            webhooks::update_webhook(ctx.app(), ctx.principal()?, &id, patch).await?,
        ))
    }

    /// Replaces the signing secret (generated when not given). The old one
    /// keeps signing next to the new for `graceSeconds` (default
    /// `SECRET_GRACE_SECONDS`), so receivers can switch without dropping
    /// deliveries. Admins.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        id: ID,
        secret: Option<String>,
        grace_seconds: Option<u32>,
    ) -> async_graphql::Result<Webhook> {
        let grace = grace_seconds.map(|s| Duration::from_secs(s.into()));
        Ok(Webhook(
            webhooks::rotate_secret(ctx.app(), ctx.principal()?, &id, secret, grace).await?,
        ))
    }

    /// Sends a delivery again from the start of the retry schedule, with
    /// the same `webhook-id`. Admins.
    async fn redeliver(
        &self,
        ctx: &Context<'_>,
        delivery_id: ID,
    ) -> async_graphql::Result<Delivery> {
        Ok(Delivery(
            deliveries::redeliver(ctx.app(), ctx.principal()?, &delivery_id).await?,
        ))
    }

    /// Sends again every delivery of the webhook that failed since `since`;
    /// returns how many. Admins.
    async fn redeliver_failed(
        &self,
        ctx: &Context<'_>,
        webhook_id: ID,
        since: DateTime<Utc>,
    ) -> async_graphql::Result<i32> {
        let count =
            deliveries::redeliver_failed(ctx.app(), ctx.principal()?, &webhook_id, since).await?;
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }

    /// Sends the webhook a `WEBHOOK_PING` event, whatever its filters; the
    /// delivery returned shows how it went. Admins.
    async fn test_webhook(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Delivery> {
        Ok(Delivery(
            deliveries::test_webhook(ctx.app(), ctx.principal()?, &id).await?,
        ))
    }

    /// Admins.
    async fn delete_webhook(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Webhook> {
        Ok(Webhook(
            webhooks::delete_webhook(ctx.app(), ctx.principal()?, &id).await?,
        ))
    }
}
