use async_graphql::{Context, ID, Object, SelectionField};
use chrono::{DateTime, Utc};
use entity::{checklist, checklist_item, comment, todo, todo_list};

use super::User;
use crate::graphql::{ContextExt, loaders::loader_error};

/// An ordered list of todos.
pub struct TodoList(pub todo_list::Model);

#[Object]
impl TodoList {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn project_id(&self) -> ID {
        ID(self.0.project_id.clone())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn position(&self) -> f64 {
        self.0.position
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A todo (Blue's record).
pub struct Todo(pub todo::Model);

impl Todo {
    /// The columns (repeats allowed) the fields selected on some todos
    /// read, for a list that need not fetch the others
    /// (`domain::todo_search::list_todos`); `None`
    /// when a field is not known here, which reads every column. Each
    /// field below must read no column of the model but the one named.
    pub fn columns<'a>(
        fields: impl IntoIterator<Item = SelectionField<'a>>,
    ) -> Option<Vec<todo::Column>> {
        use todo::Column::*;
        let mut columns = Vec::new();
        for field in fields {
            let column = match field.name() {
                "__typename" => continue,
                // By the todo's id, which every read fetches.
                "id" | "assignees" | "tags" | "comments" | "checklists" => Id,
                "projectId" => ProjectId,
                "todoListId" | "todoList" => TodoListId,
                "title" => Title,
                "text" => Text,
                "html" => Html,
                "position" => Position,
                "done" => Done,
                "archived" => Archived,
                "startedAt" => StartedAt,
                "duedAt" => DuedAt,
                "createdById" => CreatedById,
                "createdAt" => CreatedAt,
                "updatedAt" => UpdatedAt,
                _ => return None,
            };
            columns.push(column);
        }
        Some(columns)
    }
}

#[Object]
impl Todo {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn project_id(&self) -> ID {
        ID(self.0.project_id.clone())
    }
    async fn todo_list_id(&self) -> ID {
        ID(self.0.todo_list_id.clone())
    }
    async fn todo_list(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<TodoList>> {
        let list = ctx
            .loaders()
            .todo_lists
            .load_one(self.0.todo_list_id.clone())
            .await
            .map_err(loader_error)?;
        Ok(list.map(TodoList))
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn text(&self) -> Option<&str> {
        self.0.text.as_deref()
    }
    async fn html(&self) -> Option<&str> {
        self.0.html.as_deref()
    }
    /// Order within the list (Blue's float positions).
    async fn position(&self) -> f64 {
        self.0.position
    }
    async fn done(&self) -> bool {
        self.0.done
    }
    async fn archived(&self) -> bool {
        self.0.archived
    }
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }
    async fn dued_at(&self) -> Option<DateTime<Utc>> {
        self.0.dued_at
    }
    async fn created_by_id(&self) -> Option<ID> {
        self.0.created_by_id.clone().map(ID)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn assignees(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let users = ctx
            .loaders()
            .assignees
            .load_one(self.0.id.clone())
            .await
            .map_err(loader_error)?;
        Ok(users
            .unwrap_or_default()
            .into_iter()
            .map(User::from)
            .collect())
    }
    async fn tags(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(ctx
            .loaders()
            .tags
            .load_one(self.0.id.clone())
            .await
            .map_err(loader_error)?
            .unwrap_or_default())
    }
    /// Comments, oldest first.
    async fn comments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Comment>> {
        let comments = ctx
            .loaders()
            .comments
            .load_one(self.0.id.clone())
            .await
            .map_err(loader_error)?;
        Ok(comments
            .unwrap_or_default()
            .into_iter()
            .map(Comment)
            .collect())
    }
    async fn checklists(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Checklist>> {
        let lists = ctx
            .loaders()
            .checklists
            .load_one(self.0.id.clone())
            .await
            .map_err(loader_error)?;
        Ok(lists
            .unwrap_or_default()
            .into_iter()
            .map(Checklist)
            .collect())
    }
}

pub struct Checklist(pub checklist::Model);

#[Object]
impl Checklist {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn todo_id(&self) -> ID {
        ID(self.0.todo_id.clone())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn position(&self) -> f64 {
        self.0.position
    }
    async fn items(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ChecklistItem>> {
        let items = ctx
            .loaders()
            .checklist_items
            .load_one(self.0.id.clone())
            .await
            .map_err(loader_error)?;
        Ok(items
            .unwrap_or_default()
            .into_iter()
            .map(ChecklistItem)
            .collect())
    }
}

pub struct ChecklistItem(pub checklist_item::Model);

#[Object]
impl ChecklistItem {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn checklist_id(&self) -> ID {
        ID(self.0.checklist_id.clone())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn done(&self) -> bool {
        self.0.done
    }
    async fn position(&self) -> f64 {
        self.0.position
    }
}

/// A comment on a todo.
pub struct Comment(pub comment::Model);

#[Object]
impl Comment {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn todo_id(&self) -> ID {
        ID(self.0.todo_id.clone())
    }
    async fn text(&self) -> &str {
        &self.0.text
    }
    async fn html(&self) -> Option<&str> {
        self.0.html.as_deref()
    }
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(id) = &self.0.created_by_id else {
            return Ok(None);
        };
        Ok(ctx
            .loaders()
            .users
            .load_one(id.clone())
            .await
            .map_err(loader_error)?
            .map(User::from))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}
