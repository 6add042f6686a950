//! Who a todo is assigned to, and its tags.

use std::collections::BTreeSet;

use entity::{todo, todo_assignee, todo_tag};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};

use super::{
    ids,
    projects::ensure_organization_members,
    todo_lists::list_payload,
    todos::{todo_for_read, todo_payload_in},
};
use crate::{
    auth::Principal,
    domain::Ctx,
    domain::change::Change,
    error::{AppError, AppResult},
    events::types,
};

pub const MAX_TAG_CHARS: usize = 100;

/// Trims tags, drops duplicates and refuses blank or overlong ones.
pub fn normalize_tags(tags: Vec<String>) -> AppResult<BTreeSet<String>> {
    tags.into_iter()
        .map(|tag| {
            let tag = tag.trim().to_owned();
            if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
                Err(AppError::validation(format!(
                    "a tag must have 1 to {MAX_TAG_CHARS} characters"
                )))
            } else {
                Ok(tag)
            }
        })
        .collect()
}

pub async fn insert_assignee(
    change: &Change<'_>,
    todo_id: &str,
    user_id: &str,
) -> Result<(), DbErr> {
    todo_assignee::ActiveModel {
        id: Set(ids::new_id()),
        todo_id: Set(todo_id.to_owned()),
        user_id: Set(user_id.to_owned()),
        created_at: Set(ids::now()),
    }
    .insert(&**change)
    .await?;
    Ok(())
}

pub async fn insert_tag(change: &Change<'_>, todo_id: &str, tag: &str) -> Result<(), DbErr> {
    todo_tag::ActiveModel {
        id: Set(ids::new_id()),
        todo_id: Set(todo_id.to_owned()),
        tag: Set(tag.to_owned()),
        created_at: Set(ids::now()),
    }
    .insert(&**change)
    .await?;
    Ok(())
}

/// What an assignee or tag operation does.
enum Edit<'a> {
    AddAssignee(&'a str),
    RemoveAssignee(&'a str),
    AddTag(String),
    RemoveTag(String),
}

pub async fn add_assignee(
    app: &Ctx,
    who: &Principal,
    todo_id: &str,
    user_id: &str,
) -> AppResult<todo::Model> {
    edit(app, who, todo_id, Edit::AddAssignee(user_id)).await
}

pub async fn remove_assignee(
    app: &Ctx,
    who: &Principal,
    todo_id: &str,
    user_id: &str,
) -> AppResult<todo::Model> {
    edit(app, who, todo_id, Edit::RemoveAssignee(user_id)).await
}

pub async fn add_tag(
    app: &Ctx,
    who: &Principal,
    todo_id: &str,
    tag: &str,
) -> AppResult<todo::Model> {
    let tag = normalize_tags(vec![tag.to_owned()])?
        .into_iter()
        .next()
        .expect("one tag");
    edit(app, who, todo_id, Edit::AddTag(tag)).await
}

pub async fn remove_tag(
    app: &Ctx,
    who: &Principal,
    todo_id: &str,
    tag: &str,
) -> AppResult<todo::Model> {
    edit(app, who, todo_id, Edit::RemoveTag(tag.trim().to_owned())).await
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, todo = todo_id))]
async fn edit(app: &Ctx, who: &Principal, todo_id: &str, edit: Edit<'_>) -> AppResult<todo::Model> {
    let mut change = Change::begin(app, who).await?;
    let (todo, list, project) = todo_for_read(&*change, who, todo_id).await?;
    let list_json = list_payload(change.ctx(), &*change, &list, &project).await?;
    let previous = todo_payload_in(&*change, &todo, list_json.clone()).await?;
    let event_type =
        match &edit {
            Edit::AddAssignee(user_id) => {
                ensure_organization_members(
                    &*change,
                    &who.organization_id,
                    &BTreeSet::from([user_id.to_string()]),
                )
                .await?;
                insert_assignee(&change, &todo.id, user_id).await.map_err(
                    AppError::conflict_if_duplicate("this user is already assigned"),
                )?;
                types::TODO_ASSIGNEE_ADDED
            }
            Edit::RemoveAssignee(user_id) => {
                let removed = todo_assignee::Entity::delete_many()
                    .filter(todo_assignee::Column::TodoId.eq(&todo.id))
                    .filter(todo_assignee::Column::UserId.eq(*user_id))
                    .exec(&*change)
                    .await?;
                if removed.rows_affected == 0 {
                    return Err(AppError::NotFound("assignee"));
                }
                types::TODO_ASSIGNEE_REMOVED
            }
            Edit::AddTag(tag) => {
                insert_tag(&change, &todo.id, tag).await.map_err(
                    AppError::conflict_if_duplicate("the todo already has this tag"),
                )?;
                types::TODO_TAG_ADDED
            }
            Edit::RemoveTag(tag) => {
                let removed = todo_tag::Entity::delete_many()
                    .filter(todo_tag::Column::TodoId.eq(&todo.id))
                    .filter(todo_tag::Column::Tag.eq(tag.as_str()))
                    .exec(&*change)
                    .await?;
                if removed.rows_affected == 0 {
                    return Err(AppError::NotFound("tag"));
                }
                types::TODO_TAG_REMOVED
            }
        };
    let current = todo_payload_in(&*change, &todo, list_json).await?;
    change.emit(event_type, Some(&project.id), current, Some(previous));
    change.commit().await?;
    Ok(todo)
}
