use async_graphql::{Context, ID, Object};

use crate::{
    domain::{deliveries, webhooks},
    graphql::{
        ContextExt,
        connection::{PageConnection, from_page, page_request},
        types::{Delivery, DeliveryAttempt, DeliveryStatus, Webhook},
    },
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

    /// One delivery (admins).
    async fn delivery(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Delivery> {
        Ok(Delivery(
            deliveries::delivery_for_admin(&ctx.app().db, ctx.principal()?, &id).await?,
        ))
    }

    /// The attempts at one delivery, oldest first (admins).
    async fn delivery_attempts(
        &self,
        ctx: &Context<'_>,
        delivery_id: ID,
    ) -> async_graphql::Result<Vec<DeliveryAttempt>> {
        Ok(
            deliveries::list_attempts(ctx.app(), ctx.principal()?, &delivery_id)
                .await?
                .into_iter()
                .map(DeliveryAttempt)
                .collect(),
        )
    }

    /// A webhook's deliveries, newest first (admins).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        webhook_id: ID,
        status: Option<DeliveryStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PageConnection<Delivery>> {
        let page = page_request(ctx, first, after)?;
        let status = status.map(DeliveryStatus::as_str);
        let result =
            deliveries::list_deliveries(ctx.app(), ctx.principal()?, &webhook_id, status, &page)
                .await?;
        Ok(from_page(
            result,
            page.after.is_some(),
            |d| d.id.clone(),
            Delivery,
        ))
    }
}
