use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use entity::project;

use super::{Message, Page, Todo, TodoList, User};
use crate::{
    domain::{messages, pages, pagination::position_cursor, todo_lists, todo_search, todos},
    graphql::{
        ContextExt,
        connection::{PageConnection, from_page, page_request},
        loaders::loader_error,
    },
};

/// `ROOM` (BeTalk's binder, Chat&Messenger's chat room) or `DIRECT`
/// (a messenger conversation).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ProjectKind {
    Room,
    Direct,
}

impl ProjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectKind::Room => crate::domain::projects::ROOM,
            ProjectKind::Direct => crate::domain::projects::DIRECT,
        }
    }
}

/// A project: where messages, pages and todos live.
pub struct Project(pub project::Model);

#[Object]
impl Project {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn kind(&self) -> ProjectKind {
        if self.0.kind == crate::domain::projects::DIRECT {
            ProjectKind::Direct
        } else {
            ProjectKind::Room
        }
    }
    async fn archived(&self) -> bool {
        self.0.archived
    }
    async fn is_public(&self) -> bool {
        self.0.is_public
    }
    async fn is_message_thread(&self) -> bool {
        self.0.is_message_thread
    }
    async fn created_by_id(&self) -> Option<ID> {
        self.0.created_by_id.clone().map(ID)
    }
    async fn admin_user_id(&self) -> Option<ID> {
        self.0.admin_user_id.clone().map(ID)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    async fn members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let members = ctx
            .loaders()
            .project_members
            .load_one(self.0.id.clone())
            .await
            .map_err(loader_error)?;
        Ok(members
            .unwrap_or_default()
            .into_iter()
            .map(User::from)
            .collect())
    }

    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn todo_lists(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PageConnection<TodoList>> {
        let page = page_request(ctx, first, after)?;
        let result = todo_lists::list_todo_lists(ctx.app(), &self.0, &page).await?;
        Ok(from_page(
            result,
            page.after.is_some(),
            |l| position_cursor(l.position, &l.id),
            TodoList,
        ))
    }

    /// The project's todos in list order. Filters combine.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn todos(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        todo_list_id: Option<ID>,
        done: Option<bool>,
        archived: Option<bool>,
        assignee_id: Option<ID>,
        due_before: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<PageConnection<Todo>> {
        let page = page_request(ctx, first, after)?;
        let filter = todos::TodoFilter {
            todo_list_id: todo_list_id.map(|i| i.0),
            done,
            archived,
            assignee_id: assignee_id.map(|i| i.0),
            due_before,
        };
        // Only the columns the todos' selected fields read.
        let look = ctx.look_ahead();
        let nodes = [look.field("edges").field("node"), look.field("nodes")];
        let columns = Todo::columns(
            nodes
                .iter()
                .flat_map(|n| n.selection_fields())
                .flat_map(|f| f.selection_set().collect::<Vec<_>>()),
        );
        let result =
            todo_search::list_todos(ctx.app(), &self.0, &filter, &page, columns.as_deref()).await?;
        Ok(from_page(
            result,
            page.after.is_some(),
            |t| position_cursor(t.position, &t.id),
            Todo,
        ))
    }

    /// Messages oldest first, optionally only those created after `since`.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        since: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<PageConnection<Message>> {
        let page = page_request(ctx, first, after)?;
        let result = messages::list_messages(ctx.app(), &self.0, since, &page).await?;
        Ok(from_page(
            result,
            page.after.is_some(),
            |m| m.id.clone(),
            Message,
        ))
    }

    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn pages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PageConnection<Page>> {
        let page = page_request(ctx, first, after)?;
        let result = pages::list_pages(ctx.app(), &self.0, &page).await?;
        Ok(from_page(
            result,
            page.after.is_some(),
            |p| p.id.clone(),
            Page,
        ))
    }
}
