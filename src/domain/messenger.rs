//! Sending as Chat&Messenger's `sendMessage` does: to users by e-mail
//! (each in their direct conversation with the sender), or into a chat
//! room by name, mentioning those users.

use std::collections::BTreeMap;

use entity::{membership, project, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{
    conversations::direct_conversation,
    email::Email,
    messages::{NewMessage, post_message},
    projects::{ROOM, project_for_read},
};
use crate::{
    auth::Principal,
    domain::Ctx,
    error::{AppError, AppResult},
};

/// `panelName` that means direct messages.
pub const MESSENGER: &str = "messenger";

#[derive(Debug, Default)]
pub struct Outgoing {
    /// `messenger`, or the name of a chat room.
    pub panel: String,
    pub text: String,
    /// Collects read receipts (`isOpened`).
    pub sealed: bool,
    /// E-mail addresses of organization members.
    pub users: Vec<String>,
}

/// One message written: where, and for which addressee.
#[derive(Debug, Clone)]
pub struct Sent {
    pub message_id: String,
    pub project_id: String,
    pub to: Option<String>,
}

/// Splits `a@x.com, b@y.com` as the seed writes user lists.
pub fn split_emails(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The organization's users with these e-mails, by e-mail; an unknown
/// address is a `BAD_USER_INPUT` naming it, before anything is sent.
async fn members_by_email(
    app: &Ctx,
    who: &Principal,
    emails: &[String],
) -> AppResult<BTreeMap<String, String>> {
    let wanted = emails
        .iter()
        .map(|e| Email::parse(e).map(|e| e.as_str().to_owned()))
        .collect::<AppResult<Vec<String>>>()?;
    let found: BTreeMap<String, String> = user::Entity::find()
        .filter(user::Column::Email.is_in(wanted.clone()))
        .all(&app.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    let in_org: Vec<String> = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(&who.organization_id))
        .filter(membership::Column::UserId.is_in(found.keys().cloned()))
        .all(&app.db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let by_email: BTreeMap<String, String> = in_org
        .into_iter()
        .filter_map(|id| Some((found.get(&id)?.clone(), id)))
        .collect();
    match wanted.iter().find(|e| !by_email.contains_key(*e)) {
        Some(unknown) => Err(AppError::validation(format!(
            "no member of this organization has the e-mail {unknown}"
        ))),
        None => Ok(by_email),
    }
}

/// The chat room of this name the caller can see (the oldest, if several).
async fn room_by_name(app: &Ctx, who: &Principal, name: &str) -> AppResult<project::Model> {
    let candidates = project::Entity::find()
        .filter(project::Column::OrganizationId.eq(&who.organization_id))
        .filter(project::Column::Kind.eq(ROOM))
        .filter(project::Column::Name.eq(name.trim()))
        .order_by_asc(project::Column::Id)
        .all(&app.db)
        .await?;
    for room in candidates {
        if let Ok(room) = project_for_read(&app.db, who, &room.id).await {
            return Ok(room);
        }
    }
    Err(AppError::validation(format!(
        "there is no chat room named {name:?}"
    )))
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id))]
pub async fn send(app: &Ctx, who: &Principal, out: Outgoing) -> AppResult<Vec<Sent>> {
    if out.panel.trim().is_empty() {
        return Err(AppError::validation(
            "`panelName` must be \"messenger\" or a chat room's name",
        ));
    }
    let users = members_by_email(app, who, &out.users).await?;
    let message = |mentions: Vec<String>| NewMessage {
        text: out.text.clone(),
        mentions,
        sealed: out.sealed,
    };
    if out.panel.trim().eq_ignore_ascii_case(MESSENGER) {
        if users.is_empty() {
            return Err(AppError::validation(
                "direct messages need `generalPurposes.users`: e-mail addresses",
            ));
        }
        let mut sent = Vec::with_capacity(users.len());
        for (email, user_id) in users {
            let conversation = direct_conversation(app, who, &[user_id]).await?;
            let posted = post_message(app, who, &conversation.id, message(Vec::new())).await?;
            sent.push(Sent {
                message_id: posted.id,
                project_id: conversation.id,
                to: Some(email),
            });
        }
        return Ok(sent);
    }
    let room = room_by_name(app, who, &out.panel).await?;
    let posted = post_message(app, who, &room.id, message(users.into_values().collect())).await?;
    Ok(vec![Sent {
        message_id: posted.id,
        project_id: room.id,
        to: None,
    }])
}

/// Chat&Messenger's `chatRoom` argument: no `id` creates the room.
#[derive(Debug, Default)]
pub struct ChatRoomInput {
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub is_public: Option<bool>,
    pub is_message_thread: Option<bool>,
    pub admin_user_id: Option<String>,
    /// The members wanted, when given; the room is brought to exactly these
    /// (plus its admin).
    pub member_uids: Option<Vec<String>>,
}

/// Creates or updates a chat room; returns it with its member ids.
#[tracing::instrument(skip_all, fields(org = %who.organization_id))]
pub async fn save_chat_room(
    app: &Ctx,
    who: &Principal,
    input: ChatRoomInput,
) -> AppResult<(project::Model, Vec<String>)> {
    let room = match &input.id {
        None => {
            let created = super::projects::create_project(
                app,
                who,
                super::projects::NewProject {
                    name: input.name.clone().unwrap_or_default(),
                    description: input.description.clone(),
                    is_public: input.is_public.unwrap_or(false),
                    is_message_thread: input.is_message_thread.unwrap_or(false),
                    member_ids: input.member_uids.clone().unwrap_or_default(),
                },
            )
            .await?;
            match input.admin_user_id.as_deref() {
                Some(admin) if admin != who.user_id => {
                    let patch = super::projects::ProjectPatch {
                        admin_user_id: Some(admin.to_owned()),
                        ..Default::default()
                    };
                    super::projects::update_project(app, who, &created.id, patch).await?
                }
                _ => created,
            }
        }
        Some(id) => {
            let patch = super::projects::ProjectPatch {
                name: input.name.clone(),
                description: input.description.clone(),
                is_public: input.is_public,
                is_message_thread: input.is_message_thread,
                admin_user_id: input.admin_user_id.clone(),
                ..Default::default()
            };
            let room = super::projects::update_project(app, who, id, patch).await?;
            if let Some(wanted) = &input.member_uids {
                sync_members(app, who, &room, wanted).await?;
            }
            room
        }
    };
    let members = room_members(app, &room.id).await?;
    Ok((room, members))
}

async fn sync_members(
    app: &Ctx,
    who: &Principal,
    room: &project::Model,
    wanted: &[String],
) -> AppResult<()> {
    let have = room_members(app, &room.id).await?;
    for user_id in wanted.iter().filter(|u| !have.contains(u)) {
        super::projects::add_project_member(app, who, &room.id, user_id).await?;
    }
    for user_id in have.iter().filter(|u| !wanted.contains(u)) {
        if room.admin_user_id.as_deref() != Some(user_id.as_str()) {
            super::projects::remove_project_member(app, who, &room.id, user_id).await?;
        }
    }
    Ok(())
}

pub async fn room_members(app: &Ctx, project_id: &str) -> AppResult<Vec<String>> {
    let mut by_project =
        super::batch::members_by_project(&app.db, &[project_id.to_owned()]).await?;
    Ok(by_project
        .remove(project_id)
        .unwrap_or_default()
        .into_iter()
        .map(|u| u.id)
        .collect())
}
