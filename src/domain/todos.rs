//! Todos: created in a list, edited, moved between lists and reordered,
//! archived, deleted. Each aspect that changes emits its own event, in the
//! transaction of the change.

use chrono::{DateTime, Utc};
use entity::{project, todo, todo_assignee, todo_list, todo_tag};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;

use super::{
    accounts::required_text,
    ids,
    json::todo_json,
    pagination::{end_position, insert_at_end},
    scoped::find_by_id,
    todo_lists::{list_for_append, list_for_read, list_payload},
};
use crate::{
    auth::Principal,
    domain::Ctx,
    domain::change::{Change, on_writer},
    error::{AppError, AppResult},
    events::types,
};

pub const MAX_TEXT_CHARS: usize = 100_000;

#[derive(Debug, Default)]
pub struct NewTodo {
    pub todo_list_id: String,
    pub title: String,
    pub text: Option<String>,
    pub html: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub dued_at: Option<DateTime<Utc>>,
    pub assignee_ids: Vec<String>,
    pub tags: Vec<String>,
}

/// Fields to change; `Some(None)` clears a date.
#[derive(Debug, Default)]
pub struct TodoPatch {
    pub title: Option<String>,
    pub text: Option<Option<String>>,
    pub html: Option<Option<String>>,
    pub done: Option<bool>,
    pub archived: Option<bool>,
    pub started_at: Option<Option<DateTime<Utc>>>,
    pub dued_at: Option<Option<DateTime<Utc>>>,
}

#[derive(Debug, Default, Clone)]
pub struct TodoFilter {
    pub todo_list_id: Option<String>,
    pub done: Option<bool>,
    pub archived: Option<bool>,
    pub assignee_id: Option<String>,
    pub due_before: Option<DateTime<Utc>>,
}

/// A todo in a project the caller can see, with its list and project.
pub async fn todo_for_read(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
) -> AppResult<(todo::Model, todo_list::Model, project::Model)> {
    let todo = find_by_id::<todo::Entity>(
        conn,
        id,
        "todo",
        Some((todo::Column::OrganizationId, &who.organization_id)),
    )
    .await?;
    let (list, project) = list_for_read(conn, who, &todo.todo_list_id)
        .await
        .map_err(AppError::not_found_as("todo"))?;
    Ok((todo, list, project))
}

/// The todo's JSON as Blue sends it: assignees, tags, list, project, company.
pub async fn todo_payload(
    app: &Ctx,
    conn: &impl ConnectionTrait,
    todo: &todo::Model,
    list: &todo_list::Model,
    project: &project::Model,
) -> AppResult<Value> {
    todo_payload_in(conn, todo, list_payload(app, conn, list, project).await?).await
}

/// [`todo_payload`] with the list's JSON already built, for callers that
/// describe the same todo before and after a change in one list.
pub async fn todo_payload_in(
    conn: &impl ConnectionTrait,
    todo: &todo::Model,
    list_json: Value,
) -> AppResult<Value> {
    let assignees: Vec<String> = todo_assignee::Entity::find()
        .filter(todo_assignee::Column::TodoId.eq(&todo.id))
        .order_by_asc(todo_assignee::Column::Id)
        .select_only()
        .column(todo_assignee::Column::UserId)
        .into_tuple()
        .all(conn)
        .await?;
    let tags: Vec<String> = todo_tag::Entity::find()
        .filter(todo_tag::Column::TodoId.eq(&todo.id))
        .order_by_asc(todo_tag::Column::Id)
        .select_only()
        .column(todo_tag::Column::Tag)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(todo_json(todo, &assignees, &tags, list_json))
}

fn check_text(field: &str, value: &Option<String>) -> AppResult<()> {
    if value
        .as_ref()
        .is_some_and(|v| v.chars().count() > MAX_TEXT_CHARS)
    {
        return Err(AppError::validation(format!(
            "`{field}` must be at most {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(())
}

fn check_dates(started: Option<DateTime<Utc>>, dued: Option<DateTime<Utc>>) -> AppResult<()> {
    if let (Some(start), Some(due)) = (started, dued)
        && due < start
    {
        return Err(AppError::validation(
            "`duedAt` must not be before `startedAt`",
        ));
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, list = %input.todo_list_id))]
pub async fn create_todo(app: &Ctx, who: &Principal, input: NewTodo) -> AppResult<todo::Model> {
    // The list, and where the todo goes, are read before the write
    // transaction begins, so the read holds no writer (on SQLite every
    // write queues behind the one that does). Where the transaction has
    // run nothing yet the todo's insert is held back, and may go as one
    // statement with its event and deliveries (see `Txn::run_alone`).
    // Should the list be deleted meanwhile, the insert fails on its
    // foreign key: a conflict, and nothing is written.
    let (list, project, end) = list_for_append(&app.db, who, &input.todo_list_id).await?;
    let end = Some(end);
    let who = who.clone();
    on_writer(app, move |app| async move {
        let mut change = Change::begin(&app, &who).await?;
        let created_by = Some(who.user_id.clone());
        let todo = insert_todo(&mut change, &list, &project, created_by, input, end).await?;
        change.commit().await?;
        Ok(todo)
    })
    .await
}

/// Writes a todo at the end of `list`, its assignees and tags, and its
/// `TODO_CREATED` event inside `change`. `end`: the list's end as read
/// before (see [`list_for_append`]), where the todo goes when its insert
/// can be held back (see `Txn::insert_or_hold`); otherwise, or with
/// `None`, its insert finds the end itself, at once.
pub async fn insert_todo(
    change: &mut Change<'_>,
    list: &todo_list::Model,
    project: &project::Model,
    created_by_id: Option<String>,
    input: NewTodo,
    end: Option<f64>,
) -> AppResult<todo::Model> {
    let title = required_text("title", &input.title, 500)?;
    check_text("text", &input.text)?;
    check_text("html", &input.html)?;
    check_dates(input.started_at, input.dued_at)?;
    let assignees: std::collections::BTreeSet<String> = input.assignee_ids.into_iter().collect();
    if !assignees.is_empty() {
        super::projects::ensure_organization_members(
            &**change,
            &project.organization_id,
            &assignees,
        )
        .await?;
    }
    let tags = super::todo_people::normalize_tags(input.tags)?;
    let now = ids::now();
    let row = todo::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(project.organization_id.clone()),
        project_id: Set(project.id.clone()),
        todo_list_id: Set(list.id.clone()),
        title: Set(title),
        text: Set(input.text),
        html: Set(input.html),
        position: NotSet,
        done: Set(false),
        archived: Set(false),
        started_at: Set(input.started_at),
        dued_at: Set(input.dued_at),
        created_by_id: Set(created_by_id),
        created_at: Set(now),
        updated_at: Set(now),
    };
    // Held back only while that can still make the change one statement;
    // otherwise the insert finds the end itself, under the transaction.
    let todo = match end.filter(|_| change.untouched()) {
        Some(end) => {
            change
                .insert_or_hold(todo::ActiveModel {
                    position: Set(end),
                    ..row
                })
                .await?
        }
        None => {
            let siblings = todo::Entity::find().filter(todo::Column::TodoListId.eq(&list.id));
            insert_at_end(&**change, row, siblings, todo::Column::Position).await?
        }
    };
    for user_id in &assignees {
        super::todo_people::insert_assignee(change, &todo.id, user_id).await?;
    }
    for tag in &tags {
        super::todo_people::insert_tag(change, &todo.id, tag).await?;
    }
    // Written just now in this order (ids ascending), as todo_payload would
    // read them back.
    let assignees: Vec<String> = assignees.into_iter().collect();
    let tags: Vec<String> = tags.into_iter().collect();
    let payload = todo_json(
        &todo,
        &assignees,
        &tags,
        list_payload(change.ctx(), &**change, list, project).await?,
    );
    change.emit(types::TODO_CREATED, Some(&project.id), payload, None);
    Ok(todo)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, todo = id))]
pub async fn update_todo(
    app: &Ctx,
    who: &Principal,
    id: &str,
    patch: TodoPatch,
) -> AppResult<todo::Model> {
    let mut change = Change::begin(app, who).await?;
    let (before, list, project) = todo_for_read(&*change, who, id).await?;
    let mut active: todo::ActiveModel = before.clone().into();
    let mut changed: Vec<&'static str> = Vec::new();
    if let Some(title) = patch.title {
        let title = required_text("title", &title, 500)?;
        if title != before.title {
            active.title = Set(title);
            changed.push(types::TODO_NAME_CHANGED);
        }
    }
    let (text, html) = (
        patch.text.unwrap_or(before.text.clone()),
        patch.html.unwrap_or(before.html.clone()),
    );
    check_text("text", &text)?;
    check_text("html", &html)?;
    if text != before.text || html != before.html {
        active.text = Set(text);
        active.html = Set(html);
        changed.push(types::TODO_TEXT_CHANGED);
    }
    if let Some(done) = patch.done.filter(|d| *d != before.done) {
        active.done = Set(done);
        changed.push(types::TODO_DONE_STATUS_CHANGED);
    }
    if let Some(archived) = patch.archived.filter(|a| *a != before.archived) {
        active.archived = Set(archived);
        changed.push(types::TODO_ARCHIVED_STATUS_CHANGED);
    }
    let started = patch.started_at.unwrap_or(before.started_at);
    let dued = patch.dued_at.unwrap_or(before.dued_at);
    check_dates(started, dued)?;
    if started != before.started_at || dued != before.dued_at {
        active.started_at = Set(started);
        active.dued_at = Set(dued);
        changed.push(types::TODO_DUE_DATE_CHANGED);
    }
    if changed.is_empty() {
        return Ok(before);
    }
    active.updated_at = Set(ids::now());
    let after = active.update(&*change).await?;
    let list_json = list_payload(change.ctx(), &*change, &list, &project).await?;
    let previous = todo_payload_in(&*change, &before, list_json.clone()).await?;
    let current = todo_payload_in(&*change, &after, list_json).await?;
    for event_type in changed {
        change.emit(
            event_type,
            Some(&project.id),
            current.clone(),
            Some(previous.clone()),
        );
    }
    change.commit().await?;
    Ok(after)
}

/// Moves a todo to `to_list_id` (same project) at `position`, or to the end
/// of that list when no position is given.
#[tracing::instrument(skip_all, fields(org = %who.organization_id, todo = id))]
pub async fn move_todo(
    app: &Ctx,
    who: &Principal,
    id: &str,
    to_list_id: Option<&str>,
    position: Option<f64>,
) -> AppResult<todo::Model> {
    if position.is_some_and(|p| !p.is_finite()) {
        return Err(AppError::validation("`position` must be a finite number"));
    }
    let mut change = Change::begin(app, who).await?;
    let (before, from_list, project) = todo_for_read(&*change, who, id).await?;
    let to_list = match to_list_id {
        Some(list_id) if list_id != from_list.id => {
            let (list, list_project) = list_for_read(&*change, who, list_id).await?;
            if list_project.id != project.id {
                return Err(AppError::validation(
                    "a todo can only move between lists of its project",
                ));
            }
            list
        }
        _ => from_list.clone(),
    };
    let position = match position {
        Some(p) => p,
        None if to_list.id == from_list.id => return Ok(before),
        None => {
            let siblings = todo::Entity::find().filter(todo::Column::TodoListId.eq(&to_list.id));
            end_position(&*change, siblings, todo::Column::Position).await?
        }
    };
    let mut active: todo::ActiveModel = before.clone().into();
    active.todo_list_id = Set(to_list.id.clone());
    active.position = Set(position);
    active.updated_at = Set(ids::now());
    let after = active.update(&*change).await?;
    let previous = todo_payload(change.ctx(), &*change, &before, &from_list, &project).await?;
    let current = todo_payload(change.ctx(), &*change, &after, &to_list, &project).await?;
    change.emit(
        types::TODO_MOVED,
        Some(&project.id),
        current,
        Some(previous),
    );
    change.commit().await?;
    Ok(after)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, todo = id))]
pub async fn delete_todo(app: &Ctx, who: &Principal, id: &str) -> AppResult<todo::Model> {
    let mut change = Change::begin(app, who).await?;
    let (todo, list, project) = todo_for_read(&*change, who, id).await?;
    let payload = todo_payload(change.ctx(), &*change, &todo, &list, &project).await?;
    todo.clone().delete(&*change).await?;
    change.emit(
        types::TODO_DELETED,
        Some(&project.id),
        payload.clone(),
        Some(payload),
    );
    change.commit().await?;
    Ok(todo)
}
