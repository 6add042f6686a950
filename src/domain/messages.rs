//! Chat messages in a project, with mentions and sealed messages whose
//! readers leave read receipts.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use entity::{message, message_read, project};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::{
    accounts, ids,
    json::{message_json, project_json},
    pagination::{Direction, Page, PageRequest, fetch_page},
    projects::{ensure_organization_members, project_for_read},
    scoped::find_by_id,
};
use crate::{
    auth::Principal,
    domain::Ctx,
    domain::change::{Change, on_writer},
    error::{AppError, AppResult},
    events::types,
};

pub const MAX_TEXT_CHARS: usize = 20_000;

#[derive(Debug, Default)]
pub struct NewMessage {
    pub text: String,
    /// Users to notify, by id; they must belong to the organization.
    pub mentions: Vec<String>,
    /// Sealed messages collect read receipts (Chat&Messenger's `isOpened`).
    pub sealed: bool,
}

/// Who a message comes from: a user, or an integration posting as `name`.
#[derive(Debug, Clone)]
pub enum Author {
    User(String),
    Integration { id: String, name: String },
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, project = project_id))]
pub async fn post_message(
    app: &Ctx,
    who: &Principal,
    project_id: &str,
    input: NewMessage,
) -> AppResult<message::Model> {
    let project = project_for_read(&app.db, who, project_id).await?;
    let who = who.clone();
    on_writer(app, move |app| async move {
        let mut change = Change::begin(&app, &who).await?;
        let author = Author::User(who.user_id.clone());
        let message = insert_message(&mut change, &project, author, input).await?;
        change.commit().await?;
        Ok(message)
    })
    .await
}

/// Writes a message and its `MESSAGE_CREATED` event inside `change`; shared
/// by users, integrations and the compatibility routes.
pub async fn insert_message(
    change: &mut Change<'_>,
    project: &project::Model,
    author: Author,
    input: NewMessage,
) -> AppResult<message::Model> {
    if input.text.trim().is_empty() {
        return Err(AppError::validation("`text` must not be empty"));
    }
    if input.text.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::validation(format!(
            "`text` must be at most {MAX_TEXT_CHARS} characters"
        )));
    }
    if project.archived {
        return Err(AppError::conflict("the project is archived"));
    }
    let mentions: BTreeSet<String> = input.mentions.into_iter().collect();
    if !mentions.is_empty() {
        ensure_organization_members(&**change, &project.organization_id, &mentions).await?;
    }
    let (author_user_id, author_integration_id, author_name) = match author {
        Author::User(id) => (Some(id), None, None),
        Author::Integration { id, name } => (None, Some(id), Some(name)),
    };
    let now = ids::now();
    let message = message::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(project.organization_id.clone()),
        project_id: Set(project.id.clone()),
        author_user_id: Set(author_user_id),
        author_integration_id: Set(author_integration_id),
        author_name: Set(author_name),
        text: Set(input.text),
        mentions: Set(json!(mentions)),
        sealed: Set(input.sealed),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let message = change.insert_or_hold(message).await?;
    let org =
        accounts::organization_by_id(change.ctx(), &**change, &project.organization_id).await?;
    let json = message_json(&message, project_json(project, &org));
    change.emit(types::MESSAGE_CREATED, Some(&project.id), json, None);
    Ok(message)
}

/// A project's messages, oldest first, optionally only those after `since`.
/// `project` must come from [`super::projects::project_for_read`]: holding it
/// is the proof that the caller may see the project.
pub async fn list_messages(
    app: &Ctx,
    project: &project::Model,
    since: Option<DateTime<Utc>>,
    page: &PageRequest,
) -> AppResult<Page<message::Model>> {
    let mut select = message::Entity::find().filter(message::Column::ProjectId.eq(&project.id));
    if let Some(since) = since {
        select = select.filter(message::Column::CreatedAt.gt(since));
    }
    fetch_page(
        &app.db,
        select,
        message::Column::Id,
        Direction::Ascending,
        page,
    )
    .await
}

/// A message in a project the caller can see.
pub async fn message_for_read(app: &Ctx, who: &Principal, id: &str) -> AppResult<message::Model> {
    let message = find_by_id::<message::Entity>(
        &app.db,
        id,
        "message",
        Some((message::Column::OrganizationId, &who.organization_id)),
    )
    .await?;
    project_for_read(&app.db, who, &message.project_id)
        .await
        .map_err(AppError::not_found_as("message"))?;
    Ok(message)
}

/// Records that the caller read a sealed message. Reading twice keeps the
/// first receipt.
#[tracing::instrument(skip_all, fields(org = %who.organization_id, message = id))]
pub async fn mark_read(app: &Ctx, who: &Principal, id: &str) -> AppResult<message_read::Model> {
    let message = message_for_read(app, who, id).await?;
    if !message.sealed {
        return Err(AppError::validation(
            "only sealed messages take read receipts",
        ));
    }
    if let Some(existing) = message_read::Entity::find()
        .filter(message_read::Column::MessageId.eq(&message.id))
        .filter(message_read::Column::UserId.eq(&who.user_id))
        .one(&app.db)
        .await?
    {
        return Ok(existing);
    }
    let mut change = Change::begin(app, who).await?;
    let receipt = message_read::ActiveModel {
        id: Set(ids::new_id()),
        message_id: Set(message.id.clone()),
        user_id: Set(who.user_id.clone()),
        read_at: Set(ids::now()),
    }
    .insert(&*change)
    .await?;
    let json = json!({ "messageId": message.id, "userId": who.user_id, "readAt": receipt.read_at });
    change.emit(types::MESSAGE_READ, Some(&message.project_id), json, None);
    change.commit().await?;
    Ok(receipt)
}

/// The message a `MESSAGE_CREATED` event carries. The event's
/// `currentValue` is written from the stored row in the same transaction,
/// so live subscribers need not read the row back.
pub fn message_from_event(event: &entity::event::Model) -> Option<message::Model> {
    let v = &event.current_value;
    let text = |key: &str| v.get(key).and_then(|s| s.as_str()).map(str::to_owned);
    let time = |key: &str| text(key)?.parse::<DateTime<Utc>>().ok();
    Some(message::Model {
        id: text("id")?,
        organization_id: event.organization_id.clone(),
        project_id: text("projectId")?,
        author_user_id: text("authorUserId"),
        author_integration_id: text("authorIntegrationId"),
        author_name: text("authorName"),
        text: text("text")?,
        mentions: v.get("mentions")?.clone(),
        sealed: v.get("sealed")?.as_bool()?,
        created_at: time("createdAt")?,
        updated_at: time("updatedAt")?,
    })
}
