//! Comments on todos. Authors edit their own; admins may delete any.

use entity::comment;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait,
    QueryFilter,
};

use super::{
    ids,
    json::comment_json,
    pagination::{Direction, Page, PageRequest, fetch_page},
    scoped::find_by_id,
    todos::{todo_for_read, todo_payload},
};
use crate::{
    auth::Principal,
    domain::Ctx,
    domain::change::Change,
    error::{AppError, AppResult},
    events::types,
};

pub const MAX_TEXT_CHARS: usize = 50_000;

fn check(text: &str, html: &Option<String>) -> AppResult<()> {
    if text.trim().is_empty() {
        return Err(AppError::validation("`text` must not be empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS
        || html
            .as_ref()
            .is_some_and(|h| h.chars().count() > MAX_TEXT_CHARS)
    {
        return Err(AppError::validation(format!(
            "a comment must be at most {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(())
}

async fn comment_for_read(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
) -> AppResult<comment::Model> {
    let comment = find_by_id::<comment::Entity>(
        conn,
        id,
        "comment",
        Some((comment::Column::OrganizationId, &who.organization_id)),
    )
    .await?;
    todo_for_read(conn, who, &comment.todo_id)
        .await
        .map_err(AppError::not_found_as("comment"))?;
    Ok(comment)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, todo = todo_id))]
pub async fn create_comment(
    app: &Ctx,
    who: &Principal,
    todo_id: &str,
    text: &str,
    html: Option<String>,
) -> AppResult<comment::Model> {
    check(text, &html)?;
    // The todo is read before the write transaction begins, with what the
    // event says of it: on SQLite the reads then do not hold the one
    // writer, and on PostgreSQL the comment, held back, goes with its
    // event and deliveries as one statement (see `Change::commit`).
    // Should the todo be deleted meanwhile, the insert fails on its
    // foreign key: a conflict, and nothing is written.
    let (todo, list, project) = todo_for_read(&app.db, who, todo_id).await?;
    let todo_json = todo_payload(app, &app.db, &todo, &list, &project).await?;
    let mut change = Change::begin(app, who).await?;
    let now = ids::now();
    let comment = comment::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(todo.organization_id.clone()),
        project_id: Set(todo.project_id.clone()),
        todo_id: Set(todo.id.clone()),
        text: Set(text.to_owned()),
        html: Set(html),
        created_by_id: Set(Some(who.user_id.clone())),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let comment = change.insert_or_hold(comment).await?;
    let payload = comment_json(&comment, todo_json);
    change.emit(types::COMMENT_CREATED, Some(&project.id), payload, None);
    change.commit().await?;
    Ok(comment)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, comment = id))]
pub async fn update_comment(
    app: &Ctx,
    who: &Principal,
    id: &str,
    text: &str,
    html: Option<String>,
) -> AppResult<comment::Model> {
    check(text, &html)?;
    let mut change = Change::begin(app, who).await?;
    let before = comment_for_read(&*change, who, id).await?;
    if before.created_by_id.as_deref() != Some(who.user_id.as_str()) {
        return Err(AppError::forbidden("only the author can edit a comment"));
    }
    let (todo, list, project) = todo_for_read(&*change, who, &before.todo_id).await?;
    let mut active: comment::ActiveModel = before.clone().into();
    active.text = Set(text.to_owned());
    active.html = Set(html);
    active.updated_at = Set(ids::now());
    let after = active.update(&*change).await?;
    let todo_json = todo_payload(change.ctx(), &*change, &todo, &list, &project).await?;
    let (current, previous) = (
        comment_json(&after, todo_json.clone()),
        comment_json(&before, todo_json),
    );
    change.emit(
        types::COMMENT_UPDATED,
        Some(&project.id),
        current,
        Some(previous),
    );
    change.commit().await?;
    Ok(after)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, comment = id))]
pub async fn delete_comment(app: &Ctx, who: &Principal, id: &str) -> AppResult<comment::Model> {
    let mut change = Change::begin(app, who).await?;
    let comment = comment_for_read(&*change, who, id).await?;
    if comment.created_by_id.as_deref() != Some(who.user_id.as_str()) {
        who.require_admin()?;
    }
    let (todo, list, project) = todo_for_read(&*change, who, &comment.todo_id).await?;
    let payload = comment_json(
        &comment,
        todo_payload(change.ctx(), &*change, &todo, &list, &project).await?,
    );
    comment.clone().delete(&*change).await?;
    change.emit(
        types::COMMENT_DELETED,
        Some(&project.id),
        payload.clone(),
        Some(payload),
    );
    change.commit().await?;
    Ok(comment)
}

/// A todo's comments, oldest first.
pub async fn list_comments(
    app: &Ctx,
    who: &Principal,
    todo_id: &str,
    page: &PageRequest,
) -> AppResult<Page<comment::Model>> {
    let (todo, _, _) = todo_for_read(&app.db, who, todo_id).await?;
    let select = comment::Entity::find().filter(comment::Column::TodoId.eq(&todo.id));
    fetch_page(
        &app.db,
        select,
        comment::Column::Id,
        Direction::Ascending,
        page,
    )
    .await
}
