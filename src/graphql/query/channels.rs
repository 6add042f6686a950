use async_graphql::{Context, ID, Object};

use crate::{
    domain::channels::{self, query::ListQuery},
    graphql::{ContextExt, types::IntegrationPoint},
};

#[derive(Default)]
pub struct ChannelQuery;

#[Object]
impl ChannelQuery {
    /// The organization's integration points (admins), with the REST
    /// route's `filter` and `order` (JSON, same field names).
    async fn integration_points(
        &self,
        ctx: &Context<'_>,
        filter: Option<String>,
        order: Option<String>,
        #[graphql(default = 0)] offset: u64,
        #[graphql(default = 100, desc = "At most 1000.")] limit: u64,
    ) -> async_graphql::Result<Vec<IntegrationPoint>> {
        let query = ListQuery {
            filter: filter
                .map(|f| channels::query::parse_filter(&f))
                .transpose()?
                .unwrap_or_default(),
            order: order
                .map(|o| channels::query::parse_order(&o))
                .transpose()?
                .unwrap_or_default(),
            offset,
            limit: limit.min(channels::query::MAX_LIMIT),
        };
        Ok(channels::list_channels(ctx.app(), ctx.principal()?, &query)
            .await?
            .into_iter()
            .map(IntegrationPoint)
            .collect())
    }

    async fn integration_point(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<IntegrationPoint> {
        Ok(IntegrationPoint(
            channels::channel_for_admin(&ctx.app().db, &ctx.app().secrets, ctx.principal()?, &id)
                .await?,
        ))
    }
}
