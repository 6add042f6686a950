use async_graphql::{Context, ID, Object};

use crate::{
    domain::integrations,
    graphql::{ContextExt, types::Integration},
};

#[derive(Default)]
pub struct IntegrationQuery;

#[Object]
impl IntegrationQuery {
    /// A project's inbound integrations, oldest first.
    async fn integrations(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
    ) -> async_graphql::Result<Vec<Integration>> {
        let (_, list) =
            integrations::list_project_integrations(ctx.app(), ctx.principal()?, &project_id)
                .await?;
        Ok(list.into_iter().map(Integration).collect())
    }

    /// One integration (admins).
    async fn integration(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Integration> {
        Ok(Integration(
            integrations::integration_for_admin(
                &ctx.app().db,
                &ctx.app().secrets,
                ctx.principal()?,
                &id,
            )
            .await?,
        ))
    }
}
