//! Batched look-ups behind the GraphQL DataLoaders: one query per kind of
//! child for a whole page of parents. Callers pass ids of parents they have
//! already authorized.

use std::collections::HashMap;

use entity::{
    checklist, checklist_item, comment, message_read, project_member, todo_assignee, todo_list,
    todo_tag, user,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::error::AppResult;

pub async fn users_by_ids(
    db: &DatabaseConnection,
    ids: &[String],
) -> AppResult<HashMap<String, user::Model>> {
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await?;
    Ok(users.into_iter().map(|u| (u.id.clone(), u)).collect())
}

pub async fn todo_lists_by_ids(
    db: &DatabaseConnection,
    ids: &[String],
) -> AppResult<HashMap<String, todo_list::Model>> {
    let lists = todo_list::Entity::find()
        .filter(todo_list::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await?;
    Ok(lists.into_iter().map(|l| (l.id.clone(), l)).collect())
}

/// Groups rows by a key, keeping query order.
fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> String) -> HashMap<String, Vec<T>> {
    let mut grouped: HashMap<String, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(key(&row)).or_default().push(row);
    }
    grouped
}

/// Groups joined (parent, user) rows, keeping join order.
fn users_by_parent(rows: Vec<(String, Option<user::Model>)>) -> HashMap<String, Vec<user::Model>> {
    let mut out: HashMap<String, Vec<user::Model>> = HashMap::new();
    for (parent, user) in rows {
        if let Some(user) = user {
            out.entry(parent).or_default().push(user);
        }
    }
    out
}

/// Each todo's assignees with their users, in one joined query.
pub async fn assignees_by_todo(
    db: &DatabaseConnection,
    todo_ids: &[String],
) -> AppResult<HashMap<String, Vec<user::Model>>> {
    let rows = todo_assignee::Entity::find()
        .filter(todo_assignee::Column::TodoId.is_in(todo_ids.iter().cloned()))
        .order_by_asc(todo_assignee::Column::Id)
        .find_also_related(user::Entity)
        .all(db)
        .await?;
    Ok(users_by_parent(
        rows.into_iter().map(|(a, u)| (a.todo_id, u)).collect(),
    ))
}

pub async fn members_by_project(
    db: &DatabaseConnection,
    project_ids: &[String],
) -> AppResult<HashMap<String, Vec<user::Model>>> {
    let rows = project_member::Entity::find()
        .filter(project_member::Column::ProjectId.is_in(project_ids.iter().cloned()))
        .order_by_asc(project_member::Column::Id)
        .find_also_related(user::Entity)
        .all(db)
        .await?;
    Ok(users_by_parent(
        rows.into_iter().map(|(m, u)| (m.project_id, u)).collect(),
    ))
}

pub async fn readers_by_message(
    db: &DatabaseConnection,
    message_ids: &[String],
) -> AppResult<HashMap<String, Vec<message_read::Model>>> {
    let reads = message_read::Entity::find()
        .filter(message_read::Column::MessageId.is_in(message_ids.iter().cloned()))
        .order_by_asc(message_read::Column::ReadAt)
        .all(db)
        .await?;
    Ok(group(reads, |r| r.message_id.clone()))
}

pub async fn tags_by_todo(
    db: &DatabaseConnection,
    todo_ids: &[String],
) -> AppResult<HashMap<String, Vec<String>>> {
    let tags = todo_tag::Entity::find()
        .filter(todo_tag::Column::TodoId.is_in(todo_ids.iter().cloned()))
        .order_by_asc(todo_tag::Column::Id)
        .all(db)
        .await?;
    Ok(group(tags, |t| t.todo_id.clone())
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().map(|t| t.tag).collect()))
        .collect())
}

pub async fn comments_by_todo(
    db: &DatabaseConnection,
    todo_ids: &[String],
) -> AppResult<HashMap<String, Vec<comment::Model>>> {
    let comments = comment::Entity::find()
        .filter(comment::Column::TodoId.is_in(todo_ids.iter().cloned()))
        .order_by_asc(comment::Column::Id)
        .all(db)
        .await?;
    Ok(group(comments, |c| c.todo_id.clone()))
}

pub async fn checklists_by_todo(
    db: &DatabaseConnection,
    todo_ids: &[String],
) -> AppResult<HashMap<String, Vec<checklist::Model>>> {
    let checklists = checklist::Entity::find()
        .filter(checklist::Column::TodoId.is_in(todo_ids.iter().cloned()))
        .order_by_asc(checklist::Column::Position)
        .all(db)
        .await?;
    Ok(group(checklists, |c| c.todo_id.clone()))
}

pub async fn items_by_checklist(
    db: &DatabaseConnection,
    checklist_ids: &[String],
) -> AppResult<HashMap<String, Vec<checklist_item::Model>>> {
    let items = checklist_item::Entity::find()
        .filter(checklist_item::Column::ChecklistId.is_in(checklist_ids.iter().cloned()))
        .order_by_asc(checklist_item::Column::Position)
        .all(db)
        .await?;
    Ok(group(items, |i| i.checklist_id.clone()))
}
