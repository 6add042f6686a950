use async_graphql::{Context, ID, Object};

use crate::domain::{
    accounts, api_tokens,
    event_log::{self, EventFilter},
    invitations, members,
};
use crate::graphql::{
    ContextExt,
    connection::{PageConnection, from_page, page_request},
    types::{ApiToken, Event, Invitation, Member, Viewer},
};

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The caller, their organization and role.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Viewer> {
        let (app, who) = (ctx.app(), ctx.principal()?);
        let user = accounts::user_by_id(app, &who.user_id).await?;
        let organization = accounts::organization(app, who).await?;
        Ok(Viewer {
            user: user.into(),
            organization: organization.into(),
            role: who.role.into(),
            api_token_id: who.api_token_id.clone().map(ID),
        })
    }

    /// Members of the caller's organization, oldest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PageConnection<Member>> {
        let (app, who) = (ctx.app(), ctx.principal()?);
        let page = page_request(ctx, first, after)?;
        let result = members::list_members(app, who, &page)
            .await?
            .try_map(Member::try_from)?;
        Ok(from_page(
            result,
            page.after.is_some(),
            |m| m.id.to_string(),
            |m| m,
        ))
    }

    /// The organization's pending invitations, oldest first (admins).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn invitations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PageConnection<Invitation>> {
        let (app, who) = (ctx.app(), ctx.principal()?);
        let page = page_request(ctx, first, after)?;
        let result = invitations::list(app, who, &page)
            .await?
            .try_map(Invitation::try_from)?;
        Ok(from_page(
            result,
            page.after.is_some(),
            |i| i.id.to_string(),
            |i| i,
        ))
    }

    /// The caller's API tokens; admins see every token of the organization.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn api_tokens(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        include_revoked: Option<bool>,
    ) -> async_graphql::Result<PageConnection<ApiToken>> {
        let (app, who) = (ctx.app(), ctx.principal()?);
        let page = page_request(ctx, first, after)?;
        let result =
            api_tokens::list_api_tokens(app, who, include_revoked.unwrap_or(false), &page).await?;
        Ok(from_page(
            result,
            page.after.is_some(),
            |t| t.id.clone(),
            ApiToken::from,
        ))
    }
}

#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// The organization's event log, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        types: Option<Vec<String>>,
        project_id: Option<ID>,
    ) -> async_graphql::Result<PageConnection<Event>> {
        let (app, who) = (ctx.app(), ctx.principal()?);
        let page = page_request(ctx, first, after)?;
        let filter = EventFilter::new(types, project_id.map(|p| p.0));
        let result = event_log::list_events(app, who, &filter, &page).await?;
        Ok(from_page(
            result,
            page.after.is_some(),
            |e| e.id.clone(),
            Event::from,
        ))
    }
}
