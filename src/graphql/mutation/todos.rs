use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};

use crate::{
    domain::{
        checklists, comments, todo_lists, todo_people,
        todos::{self, NewTodo, TodoPatch},
    },
    graphql::{
        ContextExt,
        types::{Checklist, ChecklistItem, Comment, Todo, TodoList},
    },
};

#[derive(InputObject)]
pub struct CreateTodoInput {
    pub todo_list_id: ID,
    pub title: String,
    pub text: Option<String>,
    pub html: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub dued_at: Option<DateTime<Utc>>,
    #[graphql(default)]
    pub assignee_ids: Vec<ID>,
    #[graphql(default)]
    pub tags: Vec<String>,
}

/// Omitted fields stay as they are; `null` clears the nullable ones.
#[derive(InputObject)]
pub struct UpdateTodoInput {
    pub title: Option<String>,
    pub text: MaybeUndefined<String>,
    pub html: MaybeUndefined<String>,
    pub done: Option<bool>,
    pub archived: Option<bool>,
    pub started_at: MaybeUndefined<DateTime<Utc>>,
    pub dued_at: MaybeUndefined<DateTime<Utc>>,
}

fn patch<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

#[derive(Default)]
pub struct TodoMutation;

#[Object]
impl TodoMutation {
    async fn create_todo_list(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        title: String,
    ) -> async_graphql::Result<TodoList> {
        Ok(TodoList(
            todo_lists::create_todo_list(ctx.app(), ctx.principal()?, &project_id, &title).await?,
        ))
    }

    async fn rename_todo_list(
        &self,
        ctx: &Context<'_>,
        id: ID,
        title: String,
    ) -> async_graphql::Result<TodoList> {
        Ok(TodoList(
            todo_lists::rename_todo_list(ctx.app(), ctx.principal()?, &id, &title).await?,
        ))
    }

    /// Deletes a list with its todos.
    async fn delete_todo_list(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<TodoList> {
        Ok(TodoList(
            todo_lists::delete_todo_list(ctx.app(), ctx.principal()?, &id).await?,
        ))
    }

    /// Creates a todo at the end of its list.
    async fn create_todo(
        &self,
        ctx: &Context<'_>,
        input: CreateTodoInput,
    ) -> async_graphql::Result<Todo> {
        let input = NewTodo {
            todo_list_id: input.todo_list_id.0,
            title: input.title,
            text: input.text,
            html: input.html,
            started_at: input.started_at,
            dued_at: input.dued_at,
            assignee_ids: input.assignee_ids.into_iter().map(|i| i.0).collect(),
            tags: input.tags,
        };
        Ok(Todo(
            todos::create_todo(ctx.app(), ctx.principal()?, input).await?,
        ))
    }

    async fn update_todo(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateTodoInput,
    ) -> async_graphql::Result<Todo> {
        let patch = TodoPatch {
            title: input.title,
            text: patch(input.text),
            html: patch(input.html),
            done: input.done,
            archived: input.archived,
            started_at: patch(input.started_at),
            dued_at: patch(input.dued_at),
        };
        Ok(Todo(
            todos::update_todo(ctx.app(), ctx.principal()?, &id, patch).await?,
        ))
    }

    /// Moves a todo to another list of its project and/or to a position
    /// (the end of the list when omitted).
    async fn move_todo(
        &self,
        ctx: &Context<'_>,
        id: ID,
        todo_list_id: Option<ID>,
        position: Option<f64>,
    ) -> async_graphql::Result<Todo> {
        let list = todo_list_id.as_ref().map(|l| l.as_str());
        Ok(Todo(
            todos::move_todo(ctx.app(), ctx.principal()?, &id, list, position).await?,
        ))
    }

    async fn delete_todo(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Todo> {
        Ok(Todo(
            todos::delete_todo(ctx.app(), ctx.principal()?, &id).await?,
        ))
    }

    async fn add_todo_assignee(
        &self,
        ctx: &Context<'_>,
        todo_id: ID,
        user_id: ID,
    ) -> async_graphql::Result<Todo> {
        Ok(Todo(
            todo_people::add_assignee(ctx.app(), ctx.principal()?, &todo_id, &user_id).await?,
        ))
    }

    async fn remove_todo_assignee(
        &self,
        ctx: &Context<'_>,
        todo_id: ID,
        user_id: ID,
    ) -> async_graphql::Result<Todo> {
        Ok(Todo(
            todo_people::remove_assignee(ctx.app(), ctx.principal()?, &todo_id, &user_id).await?,
        ))
    }

    async fn add_todo_tag(
        &self,
        ctx: &Context<'_>,
        todo_id: ID,
        tag: String,
    ) -> async_graphql::Result<Todo> {
        Ok(Todo(
            todo_people::add_tag(ctx.app(), ctx.principal()?, &todo_id, &tag).await?,
        ))
    }

    async fn remove_todo_tag(
        &self,
        ctx: &Context<'_>,
        todo_id: ID,
        tag: String,
    ) -> async_graphql::Result<Todo> {
        Ok(Todo(
            todo_people::remove_tag(ctx.app(), ctx.principal()?, &todo_id, &tag).await?,
        ))
    }

    async fn create_checklist(
        &self,
        ctx: &Context<'_>,
        todo_id: ID,
        title: String,
    ) -> async_graphql::Result<Checklist> {
        Ok(Checklist(
            checklists::create_checklist(ctx.app(), ctx.principal()?, &todo_id, &title).await?,
        ))
    }

    async fn rename_checklist(
        &self,
        ctx: &Context<'_>,
        id: ID,
        title: String,
    ) -> async_graphql::Result<Checklist> {
        Ok(Checklist(
            checklists::rename_checklist(ctx.app(), ctx.principal()?, &id, &title).await?,
        ))
    }

    async fn delete_checklist(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Checklist> {
        Ok(Checklist(
            checklists::delete_checklist(ctx.app(), ctx.principal()?, &id).await?,
        ))
    }

    async fn create_checklist_item(
        &self,
        ctx: &Context<'_>,
        checklist_id: ID,
        title: String,
    ) -> async_graphql::Result<ChecklistItem> {
        Ok(ChecklistItem(
            checklists::create_item(ctx.app(), ctx.principal()?, &checklist_id, &title).await?,
        ))
    }

    async fn update_checklist_item(
        &self,
        ctx: &Context<'_>,
        id: ID,
        title: Option<String>,
        done: Option<bool>,
    ) -> async_graphql::Result<ChecklistItem> {
        let item =
            checklists::update_item(ctx.app(), ctx.principal()?, &id, title.as_deref(), done)
                .await?;
        Ok(ChecklistItem(item))
    }

    async fn delete_checklist_item(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ChecklistItem> {
        Ok(ChecklistItem(
            checklists::delete_item(ctx.app(), ctx.principal()?, &id).await?,
        ))
    }

    async fn create_comment(
        &self,
        ctx: &Context<'_>,
        todo_id: ID,
        text: String,
        html: Option<String>,
    ) -> async_graphql::Result<Comment> {
        Ok(Comment(
            comments::create_comment(ctx.app(), ctx.principal()?, &todo_id, &text, html).await?,
        ))
    }

    /// Authors only.
    async fn update_comment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        text: String,
        html: Option<String>,
    ) -> async_graphql::Result<Comment> {
        Ok(Comment(
            comments::update_comment(ctx.app(), ctx.principal()?, &id, &text, html).await?,
        ))
    }

    /// Authors, or admins.
    async fn delete_comment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Comment> {
        Ok(Comment(
            comments::delete_comment(ctx.app(), ctx.principal()?, &id).await?,
        ))
    }
}
