//! Integration points (seed 002): two-way channels linked to a project.
//! `recv_svcscriptcode = ws_hook` takes messages in at the channel's own
//! URL, authenticated by `token_local`; `send_svcscriptcode = send_to_web`
//! forwards the project's new messages to `url` through an outbound webhook
//! the channel owns (signed, retried, logged like any other). Admins only.

pub mod fields;
mod forwarding;
pub mod json;
pub mod query;
mod receive;

use forwarding::{forwarding_target, sync_webhook};
pub use receive::receive;

use entity::{integration_point, project, webhook};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    ModelTrait, QueryFilter,
};
use serde_json::Value;

use super::{ids, projects::project_for_read, scoped::find_by_id};
use crate::{
    auth::Principal,
    domain::Ctx,
    domain::change::Change,
    error::{AppError, AppResult},
    events::types,
    secrets::{Secrets, purpose},
};

pub const WS_HOOK: &str = "ws_hook";
pub const SEND_TO_WEB: &str = "send_to_web";

/// The writable fields; `None` leaves a field as it is (or at its default
/// on creation).
#[derive(Debug, Default, Clone)]
pub struct ChannelInput {
    /// `id` and `token_local` as a client sent them back: they are the
    /// server's, so an update refuses any other value (creation ignores them).
    pub id: Option<String>,
    pub token_local: Option<String>,
    pub project_id: Option<String>,
    pub code: Option<String>,
    pub kind: Option<String>,
    pub token_remote: Option<String>,
    pub token_remote2: Option<String>,
    pub url: Option<String>,
    pub recv_svcscriptcode: Option<String>,
    pub recv_svcscriptcode_ws: Option<String>,
    pub send_svcscriptcode: Option<String>,
    pub send_svcscriptcode_ws: Option<String>,
    pub opts_title: Option<String>,
    pub opts_comment: Option<String>,
    pub opts_allow_files_api: Option<bool>,
    pub opts_issync: Option<bool>,
}

/// The channel in events: everything but its tokens.
pub fn channel_event_json(c: &integration_point::Model) -> Value {
    let mut value = json::render(c, &query::all_fields(), false);
    if let Value::Object(map) = &mut value {
        map.remove("token_local");
        map.remove("token_remote");
        map.remove("token_remote2");
    }
    value
}

fn bounded(field: &str, value: String, max: usize) -> AppResult<String> {
    if value.chars().count() > max {
        return Err(AppError::validation(format!(
            "`{field}` must be at most {max} characters"
        )));
    }
    Ok(value)
}

/// `c` with its tokens opened: every channel this module returns is.
fn opened(secrets: &Secrets, c: integration_point::Model) -> AppResult<integration_point::Model> {
    let open = |token: &str| secrets.open(purpose::CHANNEL_TOKEN, token);
    Ok(integration_point::Model {
        token_local: open(&c.token_local)?,
        token_remote: open(&c.token_remote)?,
        token_remote2: open(&c.token_remote2)?,
        ..c
    })
}

pub async fn channel_for_admin(
    conn: &impl ConnectionTrait,
    secrets: &Secrets,
    who: &Principal,
    id: &str,
) -> AppResult<integration_point::Model> {
    who.require_admin()?;
    let found = find_by_id::<integration_point::Entity>(
        conn,
        id,
        "integration point",
        Some((
            integration_point::Column::OrganizationId,
            &who.organization_id,
        )),
    )
    .await?;
    opened(secrets, found)
}

pub async fn list_channels(
    app: &Ctx,
    who: &Principal,
    query: &query::ListQuery,
) -> AppResult<Vec<integration_point::Model>> {
    who.require_admin()?;
    let select = integration_point::Entity::find()
        .filter(integration_point::Column::OrganizationId.eq(&who.organization_id));
    let found = query.apply(&app.secrets, select).all(&app.db).await?;
    found.into_iter().map(|c| opened(&app.secrets, c)).collect()
}

/// Ids of the channels whose id, code or `token_local` is `key`.
pub async fn lookup(app: &Ctx, who: &Principal, key: &str) -> AppResult<Vec<String>> {
    who.require_admin()?;
    let mut by = Condition::any()
        .add(integration_point::Column::Code.eq(key))
        .add(
            integration_point::Column::TokenLocalHash
                .eq(app.secrets.lookup(purpose::CHANNEL_TOKEN, key)),
        );
    if ids::is_valid(key) {
        by = by.add(integration_point::Column::Id.eq(key));
    }
    Ok(integration_point::Entity::find()
        .filter(integration_point::Column::OrganizationId.eq(&who.organization_id))
        .filter(by)
        .all(&app.db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

/// Applies `input` to `active`, checking each field; tokens are sealed.
fn apply(
    secrets: &Secrets,
    active: &mut integration_point::ActiveModel,
    input: ChannelInput,
) -> AppResult<()> {
    let text = |field: &str, v: Option<String>, max: usize| -> AppResult<Option<String>> {
        v.map(|v| bounded(field, v, max)).transpose()
    };
    if let Some(v) = text("code", input.code, 200)? {
        active.code = Set(v);
    }
    if let Some(v) = text("type", input.kind, 64)? {
        active.kind = Set(v);
    }
    if let Some(v) = text("token_remote", input.token_remote, 512)? {
        active.token_remote = Set(secrets.seal(purpose::CHANNEL_TOKEN, &v));
    }
    if let Some(v) = text("token_remote2", input.token_remote2, 512)? {
        active.token_remote2 = Set(secrets.seal(purpose::CHANNEL_TOKEN, &v));
    }
    if let Some(v) = text("url", input.url, 2_000)? {
        active.url = Set(v);
    }
    if let Some(v) = text("recv_svcscriptcode", input.recv_svcscriptcode, 64)? {
        active.recv_svcscriptcode = Set(v);
    }
    if let Some(v) = text("recv_svcscriptcode_ws", input.recv_svcscriptcode_ws, 64)? {
        active.recv_svcscriptcode_ws = Set(v);
    }
    if let Some(v) = text("send_svcscriptcode", input.send_svcscriptcode, 64)? {
        active.send_svcscriptcode = Set(v);
    }
    if let Some(v) = text("send_svcscriptcode_ws", input.send_svcscriptcode_ws, 64)? {
        active.send_svcscriptcode_ws = Set(v);
    }
    if let Some(v) = text("opts.title", input.opts_title, 500)? {
        active.opts_title = Set(v);
    }
    if let Some(v) = text("opts.comment", input.opts_comment, 5_000)? {
        active.opts_comment = Set(v);
    }
    if let Some(v) = input.opts_allow_files_api {
        active.opts_allow_files_api = Set(v);
    }
    if let Some(v) = input.opts_issync {
        active.opts_issync = Set(v);
    }
    Ok(())
}

/// The project a channel posts into, visible to the caller.
async fn linked_project(
    conn: &impl ConnectionTrait,
    who: &Principal,
    project_id: &str,
) -> AppResult<project::Model> {
    project_for_read(conn, who, project_id)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => AppError::validation(format!(
                "project_id {project_id:?} is not a project of this organization"
            )),
            other => other,
        })
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id))]
pub async fn create_channel(
    app: &Ctx,
    who: &Principal,
    input: ChannelInput,
) -> AppResult<integration_point::Model> {
    who.require_admin()?;
    let project_id = input
        .project_id
        .clone()
        .ok_or_else(|| AppError::validation("`project_id` (the linked project) is required"))?;
    let now = ids::now();
    let (token_local, seal) = (hex_token(), |v: &str| {
        app.secrets.seal(purpose::CHANNEL_TOKEN, v)
    });
    let mut active = integration_point::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(who.organization_id.clone()),
        project_id: Set(String::new()),
        code: Set(String::new()),
        kind: Set("public".to_owned()),
        token_local: Set(seal(&token_local)),
        token_local_hash: Set(Some(
            app.secrets.lookup(purpose::CHANNEL_TOKEN, &token_local),
        )),
        token_remote: Set(seal("")),
        token_remote2: Set(seal("")),
        url: Set(String::new()),
        recv_svcscriptcode: Set(String::new()),
        recv_svcscriptcode_ws: Set(String::new()),
        send_svcscriptcode: Set(String::new()),
        send_svcscriptcode_ws: Set(String::new()),
        opts_title: Set(String::new()),
        opts_comment: Set(String::new()),
        opts_allow_files_api: Set(false),
        opts_issync: Set(false),
        webhook_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    apply(&app.secrets, &mut active, input)?;
    let target = forwarding_target(app, &active).await?;
    let mut change = Change::begin(app, who).await?;
    let project = linked_project(&*change, who, &project_id).await?;
    active.project_id = Set(project.id.clone());
    let created = opened(&app.secrets, active.insert(&*change).await?)?;
    let created = sync_webhook(&mut change, who, created, target).await?;
    change.emit(
        types::INTEGRATION_POINT_CREATED,
        Some(&created.project_id),
        channel_event_json(&created),
        None,
    );
    change.commit().await?;
    Ok(created)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, channel = id))]
pub async fn update_channel(
    app: &Ctx,
    who: &Principal,
    id: &str,
    input: ChannelInput,
) -> AppResult<integration_point::Model> {
    let mut change = Change::begin(app, who).await?;
    let before = channel_for_admin(&*change, &app.secrets, who, id).await?;
    if input.id.as_ref().is_some_and(|v| *v != before.id) {
        return Err(AppError::validation("`id` cannot be changed"));
    }
    if input
        .token_local
        .as_ref()
        .is_some_and(|v| *v != before.token_local)
    {
        return Err(AppError::validation("`token_local` cannot be changed"));
    }
    let mut active: integration_point::ActiveModel = before.clone().into();
    if let Some(project_id) = &input.project_id {
        active.project_id = Set(linked_project(&*change, who, project_id).await?.id);
    }
    apply(&app.secrets, &mut active, input)?;
    active.updated_at = Set(ids::now());
    let target = forwarding_target(app, &active).await?;
    let after = opened(&app.secrets, active.update(&*change).await?)?;
    let after = sync_webhook(&mut change, who, after, target).await?;
    change.emit(
        types::INTEGRATION_POINT_UPDATED,
        Some(&after.project_id),
        channel_event_json(&after),
        Some(channel_event_json(&before)),
    );
    change.commit().await?;
    Ok(after)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, channel = id))]
pub async fn delete_channel(
    app: &Ctx,
    who: &Principal,
    id: &str,
) -> AppResult<integration_point::Model> {
    let mut change = Change::begin(app, who).await?;
    let found = channel_for_admin(&*change, &app.secrets, who, id).await?;
    if let Some(webhook_id) = &found.webhook_id {
        webhook::Entity::delete_by_id(webhook_id.clone())
            .exec(&*change)
            .await?;
    }
    found.clone().delete(&*change).await?;
    let json = channel_event_json(&found);
    change.emit(
        types::INTEGRATION_POINT_DELETED,
        Some(&found.project_id),
        json.clone(),
        Some(json),
    );
    change.commit().await?;
    Ok(found)
}

/// 32 hex characters, as the seed's `token_local`.
fn hex_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
