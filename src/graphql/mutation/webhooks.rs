use async_graphql::{Context, ID, InputObject, Object};

use crate::{
    domain::webhooks::{self, NewWebhook, WebhookPatch},
    graphql::{ContextExt, types::Webhook},
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

    /// Admins.
    async fn delete_webhook(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Webhook> {
        Ok(Webhook(
            webhooks::delete_webhook(ctx.app(), ctx.principal()?, &id).await?,
        ))
    }
}
