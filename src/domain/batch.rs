//! Batched look-ups behind the GraphQL DataLoaders: one query per kind of
//! child for a whole page of parents. Callers pass ids of parents they have
//! already authorized.

use std::collections::HashMap;

use entity::{
    checklist, checklist_item, comment, message_read, project_member, todo_assignee, todo_list,
    todo_tag, user,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::error::AppResult;

pub async fn users_by_ids(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> AppResult<HashMap<String, user::Model>> {
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await?;
    Ok(users.into_iter().map(|u| (u.id.clone(), u)).collect())
}

pub async fn todo_lists_by_ids(
    db: &impl ConnectionTrait,
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

/// Each parent's users from (parent id, user id) pairs in order: the users
/// are read once each, however many parents share them (a page of todos
/// assigned to the same two people reads two users, not forty joined rows).
async fn users_by_parent(
    db: &impl ConnectionTrait,
    pairs: Vec<(String, String)>,
) -> AppResult<HashMap<String, Vec<user::Model>>> {
    let mut ids: Vec<String> = pairs.iter().map(|(_, user)| user.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    let users = users_by_ids(db, &ids).await?;
    let mut out: HashMap<String, Vec<user::Model>> = HashMap::new();
    for (parent, user_id) in pairs {
        if let Some(user) = users.get(&user_id) {
            out.entry(parent).or_default().push(user.clone());
        }
    }
    Ok(out)
}

/// Each todo's assignees with their users.
pub async fn assignees_by_todo(
    db: &impl ConnectionTrait,
    todo_ids: &[String],
) -> AppResult<HashMap<String, Vec<user::Model>>> {
    let pairs: Vec<(String, String)> = todo_assignee::Entity::find()
        .filter(todo_assignee::Column::TodoId.is_in(todo_ids.iter().cloned()))
        .order_by_asc(todo_assignee::Column::Id)
        .select_only()
        .columns([todo_assignee::Column::TodoId, todo_assignee::Column::UserId])
        .into_tuple()
        .all(db)
        .await?;
    users_by_parent(db, pairs).await
}

pub async fn members_by_project(
    db: &impl ConnectionTrait,
    project_ids: &[String],
) -> AppResult<HashMap<String, Vec<user::Model>>> {
    let pairs: Vec<(String, String)> = project_member::Entity::find()
        .filter(project_member::Column::ProjectId.is_in(project_ids.iter().cloned()))
        .order_by_asc(project_member::Column::Id)
        .select_only()
        .columns([
            project_member::Column::ProjectId,
            project_member::Column::UserId,
        ])
        .into_tuple()
        .all(db)
        .await?;
    users_by_parent(db, pairs).await
}

pub async fn readers_by_message(
    db: &impl ConnectionTrait,
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
    db: &impl ConnectionTrait,
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
    db: &impl ConnectionTrait,
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
    db: &impl ConnectionTrait,
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
    db: &impl ConnectionTrait,
    checklist_ids: &[String],
) -> AppResult<HashMap<String, Vec<checklist_item::Model>>> {
    let items = checklist_item::Entity::find()
        .filter(checklist_item::Column::ChecklistId.is_in(checklist_ids.iter().cloned()))
        .order_by_asc(checklist_item::Column::Position)
        .all(db)
        .await?;
    Ok(group(items, |i| i.checklist_id.clone()))
}
