use async_graphql::{Context, ID, Object};

use crate::{
    domain::webhooks,
    graphql::{ContextExt, types::Webhook},
};

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The organization's webhooks (admins).
    async fn webhooks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Webhook>> {
        Ok(webhooks::list_webhooks(ctx.app(), ctx.principal()?)
            .await?
            .into_iter()
            .map(Webhook)
            .collect())
    }

    async fn webhook(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Webhook> {
        Ok(Webhook(
            webhooks::webhook_for_admin(&ctx.app().db, ctx.principal()?, &id).await?,
        ))
    }
}
