//! Messages arriving on a `ws_hook` channel.

use entity::{integration_point, project};
use sea_orm::EntityTrait;

use super::WS_HOOK;
use crate::{
    domain::{
        Ctx,
        change::{Change, on_writer},
        ids,
        messages::{self, Author, NewMessage},
    },
    error::{AppError, AppResult},
    secrets::purpose,
};

/// A message arriving on a `ws_hook` channel, authenticated by its
/// `token_local`; posted into the linked project by the channel.
#[tracing::instrument(skip_all, fields(channel = id))]
pub async fn receive(
    app: &Ctx,
    id: &str,
    token: Option<&str>,
    text: String,
    author: Option<String>,
) -> AppResult<entity::message::Model> {
    let channel = if ids::is_valid(id) {
        integration_point::Entity::find_by_id(id.to_owned())
            .one(&app.db)
            .await?
    } else {
        None
    }
    .filter(|c| c.recv_svcscriptcode == WS_HOOK)
    .ok_or(AppError::NotFound("integration point"))?;
    let given_hash = app
        .secrets
        .lookup(purpose::CHANNEL_TOKEN, token.unwrap_or_default());
    let stored_hash = channel.token_local_hash.as_deref().unwrap_or_default();
    use subtle::ConstantTimeEq;
    let matches = bool::from(given_hash.as_bytes().ct_eq(stored_hash.as_bytes()));
    if token.is_none_or(str::is_empty) || !matches {
        return Err(AppError::unauthenticated(
            "send the channel's token_local as `Authorization: Bearer <token_local>`",
        ));
    }
    on_writer(app, move |app| async move {
        post(&app, channel, text, author).await
    })
    .await
}

/// Posts `text` into the channel's project, as the channel.
async fn post(
    app: &Ctx,
    channel: integration_point::Model,
    text: String,
    author: Option<String>,
) -> AppResult<entity::message::Model> {
    let mut change = Change::begin_for(app, &channel.organization_id, None).await?;
    let project = project::Entity::find_by_id(channel.project_id.clone())
        .one(&*change)
        .await?
        .ok_or(AppError::NotFound("integration point"))?;
    let name = author
        .filter(|a| !a.trim().is_empty())
        .or_else(|| Some(channel.opts_title.clone()).filter(|t| !t.is_empty()))
        .unwrap_or_else(|| format!("Channel {}", channel.code));
    let input = NewMessage {
        text,
        ..NewMessage::default()
    };
    let author = Author::Integration {
        id: channel.id.clone(),
        name,
    };
    let message = messages::insert_message(&mut change, &project, author, input).await?;
    change.commit().await?;
    Ok(message)
}
