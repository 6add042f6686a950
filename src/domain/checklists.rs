//! Checklists inside todos, and their items.

use entity::{checklist, checklist_item, project, todo, todo_list};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, QueryFilter,
};
use serde_json::Value;

use super::{
    accounts::required_text,
    ids,
    json::{checklist_item_json, checklist_json},
    pagination::insert_at_end,
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

struct Parents {
    todo: todo::Model,
    list: todo_list::Model,
    project: project::Model,
}

async fn checklist_for_read(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
) -> AppResult<(checklist::Model, Parents)> {
    let checklist = find_by_id::<checklist::Entity>(conn, id, "checklist", None).await?;
    let (todo, list, project) = todo_for_read(conn, who, &checklist.todo_id)
        .await
        .map_err(AppError::not_found_as("checklist"))?;
    Ok((
        checklist,
        Parents {
            todo,
            list,
            project,
        },
    ))
}

async fn item_for_read(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
) -> AppResult<(checklist_item::Model, checklist::Model, Parents)> {
    let item = find_by_id::<checklist_item::Entity>(conn, id, "checklist item", None).await?;
    let (checklist, parents) = checklist_for_read(conn, who, &item.checklist_id)
        .await
        .map_err(AppError::not_found_as("checklist item"))?;
    Ok((item, checklist, parents))
}

async fn checklist_payload(
    app: &Ctx,
    conn: &impl ConnectionTrait,
    c: &checklist::Model,
    p: &Parents,
) -> AppResult<Value> {
    Ok(checklist_json(c, parent_todo_json(app, conn, p).await?))
}

async fn parent_todo_json(app: &Ctx, conn: &impl ConnectionTrait, p: &Parents) -> AppResult<Value> {
    todo_payload(app, conn, &p.todo, &p.list, &p.project).await
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, todo = todo_id))]
pub async fn create_checklist(
    app: &Ctx,
    who: &Principal,
    todo_id: &str,
    title: &str,
) -> AppResult<checklist::Model> {
    let title = required_text("title", title, 500)?;
    let mut change = Change::begin(app, who).await?;
    let (todo, list, project) = todo_for_read(&*change, who, todo_id).await?;
    let siblings = checklist::Entity::find().filter(checklist::Column::TodoId.eq(&todo.id));
    let now = ids::now();
    let row = checklist::ActiveModel {
        id: Set(ids::new_id()),
        todo_id: Set(todo.id.clone()),
        title: Set(title),
        position: NotSet,
        created_by_id: Set(Some(who.user_id.clone())),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let created = insert_at_end(&*change, row, siblings, checklist::Column::Position).await?;
    let parents = Parents {
        todo,
        list,
        project,
    };
    let payload = checklist_payload(change.ctx(), &*change, &created, &parents).await?;
    change.emit(
        types::TODO_CHECKLIST_CREATED,
        Some(&parents.project.id),
        payload,
        None,
    );
    change.commit().await?;
    Ok(created)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, checklist = id))]
pub async fn rename_checklist(
    app: &Ctx,
    who: &Principal,
    id: &str,
    title: &str,
) -> AppResult<checklist::Model> {
    let title = required_text("title", title, 500)?;
    let mut change = Change::begin(app, who).await?;
    let (before, parents) = checklist_for_read(&*change, who, id).await?;
    let mut active: checklist::ActiveModel = before.clone().into();
    active.title = Set(title);
    active.updated_at = Set(ids::now());
    let after = active.update(&*change).await?;
    let todo_json = parent_todo_json(change.ctx(), &*change, &parents).await?;
    let previous = checklist_json(&before, todo_json.clone());
    let current = checklist_json(&after, todo_json);
    change.emit(
        types::TODO_CHECKLIST_NAME_CHANGED,
        Some(&parents.project.id),
        current,
        Some(previous),
    );
    change.commit().await?;
    Ok(after)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, checklist = id))]
pub async fn delete_checklist(app: &Ctx, who: &Principal, id: &str) -> AppResult<checklist::Model> {
    let mut change = Change::begin(app, who).await?;
    let (checklist, parents) = checklist_for_read(&*change, who, id).await?;
    let payload = checklist_payload(change.ctx(), &*change, &checklist, &parents).await?;
    checklist.clone().delete(&*change).await?;
    change.emit(
        types::TODO_CHECKLIST_DELETED,
        Some(&parents.project.id),
        payload.clone(),
        Some(payload),
    );
    change.commit().await?;
    Ok(checklist)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, checklist = checklist_id))]
pub async fn create_item(
    app: &Ctx,
    who: &Principal,
    checklist_id: &str,
    title: &str,
) -> AppResult<checklist_item::Model> {
    let title = required_text("title", title, 500)?;
    let mut change = Change::begin(app, who).await?;
    let (checklist, parents) = checklist_for_read(&*change, who, checklist_id).await?;
    let siblings = checklist_item::Entity::find()
        .filter(checklist_item::Column::ChecklistId.eq(&checklist.id));
    let now = ids::now();
    let row = checklist_item::ActiveModel {
        id: Set(ids::new_id()),
        checklist_id: Set(checklist.id.clone()),
        title: Set(title),
        done: Set(false),
        position: NotSet,
        created_by_id: Set(Some(who.user_id.clone())),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let item = insert_at_end(&*change, row, siblings, checklist_item::Column::Position).await?;
    let payload = checklist_item_json(
        &item,
        checklist_payload(change.ctx(), &*change, &checklist, &parents).await?,
    );
    change.emit(
        types::TODO_CHECKLIST_ITEM_CREATED,
        Some(&parents.project.id),
        payload,
        None,
    );
    change.commit().await?;
    Ok(item)
}

/// Renames an item and/or checks it off; one event per aspect changed.
#[tracing::instrument(skip_all, fields(org = %who.organization_id, item = id))]
pub async fn update_item(
    app: &Ctx,
    who: &Principal,
    id: &str,
    title: Option<&str>,
    done: Option<bool>,
) -> AppResult<checklist_item::Model> {
    let mut change = Change::begin(app, who).await?;
    let (before, checklist, parents) = item_for_read(&*change, who, id).await?;
    let mut active: checklist_item::ActiveModel = before.clone().into();
    let mut changed = Vec::new();
    if let Some(title) = title {
        let title = required_text("title", title, 500)?;
        if title != before.title {
            active.title = Set(title);
            changed.push(types::TODO_CHECKLIST_ITEM_NAME_CHANGED);
        }
    }
    if let Some(done) = done.filter(|d| *d != before.done) {
        active.done = Set(done);
        changed.push(types::TODO_CHECKLIST_ITEM_DONE_CHANGED);
    }
    if changed.is_empty() {
        return Ok(before);
    }
    active.updated_at = Set(ids::now());
    let after = active.update(&*change).await?;
    let parent = checklist_payload(change.ctx(), &*change, &checklist, &parents).await?;
    let (current, previous) = (
        checklist_item_json(&after, parent.clone()),
        checklist_item_json(&before, parent),
    );
    for event_type in changed {
        change.emit(
            event_type,
            Some(&parents.project.id),
            current.clone(),
            Some(previous.clone()),
        );
    }
    change.commit().await?;
    Ok(after)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, item = id))]
pub async fn delete_item(app: &Ctx, who: &Principal, id: &str) -> AppResult<checklist_item::Model> {
    let mut change = Change::begin(app, who).await?;
    let (item, checklist, parents) = item_for_read(&*change, who, id).await?;
    let payload = checklist_item_json(
        &item,
        checklist_payload(change.ctx(), &*change, &checklist, &parents).await?,
    );
    item.clone().delete(&*change).await?;
    change.emit(
        types::TODO_CHECKLIST_ITEM_DELETED,
        Some(&parents.project.id),
        payload.clone(),
        Some(payload),
    );
    change.commit().await?;
    Ok(item)
}
