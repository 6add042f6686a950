use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use crate::{
    domain::{
        conference, pages,
        projects::{self, ProjectFilter},
        todos,
    },
    graphql::{
        ContextExt,
        connection::{PageConnection, from_page, page_request},
        types::{ConferenceRoom, Page, Project, ProjectKind, Reservation, Todo},
    },
};

#[derive(Default)]
pub struct WorkspaceQuery;

#[Object]
impl WorkspaceQuery {
    /// Projects the caller can see, oldest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        archived: Option<bool>,
        kind: Option<ProjectKind>,
        name: Option<String>,
    ) -> async_graphql::Result<PageConnection<Project>> {
        let page = page_request(ctx, first, after)?;
        let filter = ProjectFilter {
            archived,
            kind: kind.map(|k| k.as_str().to_owned()),
            name,
        };
        let result = projects::list_projects(ctx.app(), ctx.principal()?, &filter, &page).await?;
        Ok(from_page(
            result,
            page.after.is_some(),
            |p| p.id.clone(),
            Project,
        ))
    }

    async fn project(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Project> {
        Ok(Project(
            projects::project_for_read(&ctx.app().db, ctx.principal()?, &id).await?,
        ))
    }

    async fn todo(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Todo> {
        let (todo, _, _) = todos::todo_for_read(&ctx.app().db, ctx.principal()?, &id).await?;
        Ok(Todo(todo))
    }

    async fn page(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Page> {
        Ok(Page(
            pages::page_for_read(&ctx.app().db, ctx.principal()?, &id).await?,
        ))
    }

    async fn conference_rooms(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ConferenceRoom>> {
        let rooms = conference::list_rooms(ctx.app(), ctx.principal()?).await?;
        Ok(rooms.into_iter().map(ConferenceRoom).collect())
    }

    /// Reservations overlapping `[from, to)`, of one room or all.
    async fn reservations(
        &self,
        ctx: &Context<'_>,
        conference_room_id: Option<ID>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Vec<Reservation>> {
        let room = conference_room_id.as_ref().map(|id| id.as_str());
        let found =
            conference::list_reservations(ctx.app(), ctx.principal()?, room, from, to).await?;
        Ok(found.into_iter().map(Reservation).collect())
    }
}
