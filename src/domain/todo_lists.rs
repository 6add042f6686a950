//! Todo lists: ordered columns of todos in a project.

use entity::{project, todo, todo_list};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, IdenStatic, ModelTrait,
    QueryFilter, QuerySelect, QueryTrait, SelectA, SelectB,
    sea_query::{Expr, ExprTrait},
};
use serde_json::Value;

use super::{
    accounts::{self, required_text},
    ids,
    json::{project_json, todo_list_json},
    pagination::{Page, PageRequest, end_of, fetch_page_by_position, insert_at_end},
    projects::{CALLER_IS_MEMBER, caller_is_member, project_for_read, readable},
    scoped::select_by_id,
};
use crate::{
    auth::Principal,
    domain::Ctx,
    domain::change::Change,
    error::{AppError, AppResult},
    events::types,
};

/// A todo list in a project the caller can see, with that project.
pub async fn list_for_read(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
) -> AppResult<(todo_list::Model, project::Model)> {
    let (list, project, _) = read_list(conn, who, id, false).await?;
    Ok((list, project))
}

/// As [`list_for_read`], with the position after the list's last todo
/// (where a new todo goes) read in the same statement.
pub async fn list_for_append(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
) -> AppResult<(todo_list::Model, project::Model, f64)> {
    let (list, project, end) = read_list(conn, who, id, true).await?;
    Ok((list, project, end.expect("the end is read")))
}

const END_POSITION: &str = "end_position";

async fn read_list(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
    with_end: bool,
) -> AppResult<(todo_list::Model, project::Model, Option<f64>)> {
    // List, project and the caller's membership in one statement: every
    // todo write starts here, where each statement counts.
    let mut select = select_by_id::<todo_list::Entity>(
        id,
        "todo list",
        Some((todo_list::Column::OrganizationId, &who.organization_id)),
    )?
    .find_also_related(project::Entity)
    .expr_as(caller_is_member(who), CALLER_IS_MEMBER);
    if with_end {
        let todos_of_list = todo::Entity::find().filter(
            Expr::col((todo::Entity, todo::Column::TodoListId))
                .equals((todo_list::Entity, todo_list::Column::Id)),
        );
        select = select.expr_as(end_of(todos_of_list, todo::Column::Position), END_POSITION);
    }
    let Some(row) = conn.query_one(&select.into_query()).await? else {
        return Err(AppError::NotFound("todo list"));
    };
    let list = todo_list::Model::from_query_result(&row, SelectA.as_str())?;
    let Some(project) = project::Model::from_query_result_optional(&row, SelectB.as_str())? else {
        return Err(AppError::NotFound("todo list"));
    };
    let end = with_end
        .then(|| row.try_get::<f64>("", END_POSITION))
        .transpose()?;
    let project = readable(who, project, &row).map_err(AppError::not_found_as("todo list"))?;
    Ok((list, project, end))
}

/// The list's JSON with its project and company nested.
pub async fn list_payload(
    app: &Ctx,
    conn: &impl ConnectionTrait,
    list: &todo_list::Model,
    project: &project::Model,
) -> AppResult<Value> {
    let org = accounts::organization_by_id(app, conn, &project.organization_id).await?;
    Ok(todo_list_json(list, project_json(project, &org)))
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, project = project_id))]
pub async fn create_todo_list(
    app: &Ctx,
    who: &Principal,
    project_id: &str,
    title: &str,
) -> AppResult<todo_list::Model> {
    let title = required_text("title", title, 500)?;
    let mut change = Change::begin(app, who).await?;
    let project = project_for_read(&*change, who, project_id).await?;
    let list = insert_todo_list(&change, &project, title, Some(who.user_id.clone())).await?;
    let payload = list_payload(change.ctx(), &*change, &list, &project).await?;
    change.emit(types::TODO_LIST_CREATED, Some(&project.id), payload, None);
    change.commit().await?;
    Ok(list)
}

/// Inserts a list at the end of the project's lists (no event).
pub async fn insert_todo_list(
    change: &Change<'_>,
    project: &project::Model,
    title: String,
    created_by_id: Option<String>,
) -> AppResult<todo_list::Model> {
    let siblings = todo_list::Entity::find().filter(todo_list::Column::ProjectId.eq(&project.id));
    let now = ids::now();
    let row = todo_list::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(project.organization_id.clone()),
        project_id: Set(project.id.clone()),
        title: Set(title),
        position: NotSet,
        created_by_id: Set(created_by_id),
        created_at: Set(now),
        updated_at: Set(now),
    };
    insert_at_end(&**change, row, siblings, todo_list::Column::Position).await
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, list = id))]
pub async fn rename_todo_list(
    app: &Ctx,
    who: &Principal,
    id: &str,
    title: &str,
) -> AppResult<todo_list::Model> {
    let title = required_text("title", title, 500)?;
    let mut change = Change::begin(app, who).await?;
    let (before, project) = list_for_read(&*change, who, id).await?;
    let mut active: todo_list::ActiveModel = before.clone().into();
    active.title = Set(title);
    active.updated_at = Set(ids::now());
    let after = active.update(&*change).await?;
    let (current, previous) = (
        list_payload(change.ctx(), &*change, &after, &project).await?,
        list_payload(change.ctx(), &*change, &before, &project).await?,
    );
    change.emit(
        types::TODO_LIST_NAME_CHANGED,
        Some(&project.id),
        current,
        Some(previous),
    );
    change.commit().await?;
    Ok(after)
}

/// Deletes a list and, with it, its todos.
#[tracing::instrument(skip_all, fields(org = %who.organization_id, list = id))]
pub async fn delete_todo_list(app: &Ctx, who: &Principal, id: &str) -> AppResult<todo_list::Model> {
    let mut change = Change::begin(app, who).await?;
    let (list, project) = list_for_read(&*change, who, id).await?;
    let payload = list_payload(change.ctx(), &*change, &list, &project).await?;
    list.clone().delete(&*change).await?;
    change.emit(
        types::TODO_LIST_DELETED,
        Some(&project.id),
        payload.clone(),
        Some(payload),
    );
    change.commit().await?;
    Ok(list)
}

/// `project` must come from [`super::projects::project_for_read`]: holding it
/// is the proof that the caller may see the project.
pub async fn list_todo_lists(
    app: &Ctx,
    project: &project::Model,
    page: &PageRequest,
) -> AppResult<Page<todo_list::Model>> {
    let select = todo_list::Entity::find().filter(todo_list::Column::ProjectId.eq(&project.id));
    fetch_page_by_position(
        &app.db,
        select,
        todo_list::Column::Position,
        todo_list::Column::Id,
        page,
    )
    .await
}
