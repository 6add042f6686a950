//! Outbound webhooks as Blue defines them: name, url, secret, status,
//! enabled, and `metadata {events, projectIds}` filters (empty = all).
//! Admins only. Targets pass the SSRF guard at creation and on every change
//! of URL.

mod secret;

use std::{collections::BTreeSet, time::Duration};

use secret::{check_secret, rotate};
pub use secret::{rotate_secret, secret_of, signing_secrets};

use chrono::{DateTime, Utc};
use entity::{project, webhook};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait,
    QueryFilter, QueryOrder,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::{
    accounts::{self, required_text},
    ids,
    scoped::find_by_id,
};
use crate::{
    auth::Principal,
    domain::Ctx,
    domain::change::Change,
    domain::delivery::target,
    error::{AppError, AppResult},
    events::types,
    secrets::purpose,
    signature,
};

pub const HEALTHY: &str = "HEALTHY";
pub const UNHEALTHY: &str = "UNHEALTHY";

#[derive(Debug, Default)]
pub struct NewWebhook {
    pub name: String,
    pub url: String,
    /// Generated (`whsec_…`) when not given.
    pub secret: Option<String>,
    pub enabled: Option<bool>,
    pub events: Vec<String>,
    pub project_ids: Vec<String>,
}

#[derive(Debug, Default)]
pub struct WebhookPatch {
    pub name: Option<String>,
    pub url: Option<String>,
    pub secret: Option<String>,
    pub enabled: Option<bool>,
    pub events: Option<Vec<String>>,
    pub project_ids: Option<Vec<String>>,
}

/// The webhook as it appears in payloads and events: Blue's shape, with the
/// secret blanked as in Blue's example payload. Borrowed, so an attempt
/// serializes it straight from the row (it once built a JSON object first,
/// about half of a payload's cost). Fields in alphabetical order: the
/// order of the JSON object this replaced, so the bytes are unchanged.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView<'a> {
    created_at: &'a DateTime<Utc>,
    created_by_id: &'a Option<String>,
    enabled: bool,
    id: &'a str,
    metadata: Filters<'a>,
    name: &'a str,
    secret: &'static str,
    status: &'a str,
    uid: &'a str,
    updated_at: &'a DateTime<Utc>,
    url: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Filters<'a> {
    events: &'a Value,
    project_ids: &'a Value,
}

impl<'a> WebhookView<'a> {
    pub fn new(w: &'a webhook::Model) -> Self {
        Self {
            created_at: &w.created_at,
            created_by_id: &w.created_by_id,
            enabled: w.enabled,
            id: &w.id,
            metadata: Filters {
                events: &w.events,
                project_ids: &w.project_ids,
            },
            name: &w.name,
            secret: "",
            status: &w.status,
            uid: &w.uid,
            updated_at: &w.updated_at,
            url: &w.url,
        }
    }
}

/// A webhook row for unit tests: enabled as given, with these filters.
#[cfg(test)]
pub(crate) fn sample(enabled: bool, events: Value, project_ids: Value) -> webhook::Model {
    let now = Utc::now();
    webhook::Model {
        id: "w".into(),
        uid: "u".into(),
        organization_id: "o".into(),
        name: "n".into(),
        url: "https://example.com/hook".into(),
        secret: "s".into(),
        status: HEALTHY.into(),
        enabled,
        events,
        project_ids,
        created_by_id: None,
        consecutive_failures: 0,
        failing_since: None,
        previous_secret: None,
        previous_secret_expires_at: None,
        channel_id: None,
        created_at: now,
        updated_at: now,
    }
}

/// [`WebhookView`] as a JSON value, for events' values.
pub fn webhook_json(w: &webhook::Model) -> Value {
    serde_json::to_value(WebhookView::new(w)).expect("webhooks serialize")
}

fn check_events(events: Vec<String>) -> AppResult<Vec<String>> {
    let events: BTreeSet<String> = events
        .into_iter()
        .map(|e| e.trim().to_uppercase())
        .collect();
    match events.iter().find(|e| !types::ALL.contains(&e.as_str())) {
        Some(unknown) => Err(AppError::validation(format!(
            "unknown event type {unknown:?}"
        ))),
        None => Ok(events.into_iter().collect()),
    }
}

async fn check_projects(
    conn: &impl ConnectionTrait,
    who: &Principal,
    ids: Vec<String>,
) -> AppResult<Vec<String>> {
    let wanted: BTreeSet<String> = ids.into_iter().collect();
    let found = project::Entity::find()
        .filter(project::Column::OrganizationId.eq(&who.organization_id))
        .filter(project::Column::Id.is_in(wanted.iter().cloned()))
        .all(conn)
        .await?;
    match wanted.iter().find(|id| !found.iter().any(|p| &p.id == *id)) {
        Some(missing) => Err(AppError::validation(format!(
            "project {missing} is not a project of this organization"
        ))),
        None => Ok(wanted.into_iter().collect()),
    }
}

pub async fn check_url(app: &Ctx, raw: &str) -> AppResult<String> {
    let url = target::parse_target(raw)?;
    target::check_target(&url, app.settings.allow_private_targets).await?;
    Ok(url.to_string())
}

pub async fn webhook_for_admin(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
) -> AppResult<webhook::Model> {
    who.require_admin()?;
    find_by_id::<webhook::Entity>(
        conn,
        id,
        "webhook",
        Some((webhook::Column::OrganizationId, &who.organization_id)),
    )
    .await
}

pub async fn list_webhooks(app: &Ctx, who: &Principal) -> AppResult<Vec<webhook::Model>> {
    who.require_admin()?;
    Ok(webhook::Entity::find()
        .filter(webhook::Column::OrganizationId.eq(&who.organization_id))
        .order_by_asc(webhook::Column::Id)
        .all(&app.db)
        .await?)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id))]
pub async fn create_webhook(
    app: &Ctx,
    who: &Principal,
    input: NewWebhook,
) -> AppResult<webhook::Model> {
    who.require_admin()?;
    let name = required_text("name", &input.name, 200)?;
    let url = check_url(app, &input.url).await?;
    let events = check_events(input.events)?;
    let secret = check_secret(input.secret.unwrap_or_else(signature::generate_secret))?;
    let mut change = Change::begin(app, who).await?;
    accounts::one_change_at_a_time(&change, &who.organization_id).await?;
    let project_ids = check_projects(&*change, who, input.project_ids).await?;
    let row = WebhookRow {
        name,
        url,
        secret,
        enabled: input.enabled.unwrap_or(true),
        events,
        project_ids,
        channel_id: None,
    };
    let created = insert_webhook(&mut change, who, row).await?;
    change.commit().await?;
    Ok(created)
}

/// A checked webhook, ready to store.
pub struct WebhookRow {
    pub name: String,
    pub url: String,
    pub secret: String,
    pub enabled: bool,
    pub events: Vec<String>,
    pub project_ids: Vec<String>,
    pub channel_id: Option<String>,
}

/// Stores a webhook and its `WEBHOOK_CREATED` event inside `change`.
pub async fn insert_webhook(
    change: &mut Change<'_>,
    who: &Principal,
    row: WebhookRow,
) -> AppResult<webhook::Model> {
    let now = ids::now();
    let id = ids::new_id();
    let created = webhook::ActiveModel {
        uid: Set(id.replace('-', "")),
        id: Set(id),
        organization_id: Set(who.organization_id.clone()),
        name: Set(row.name),
        url: Set(row.url),
        secret: Set(change
            .ctx()
            .secrets
            .seal(purpose::WEBHOOK_SECRET, &row.secret)),
        status: Set(HEALTHY.to_owned()),
        enabled: Set(row.enabled),
        events: Set(json!(row.events)),
        project_ids: Set(json!(row.project_ids)),
        created_by_id: Set(Some(who.user_id.clone())),
        consecutive_failures: Set(0),
        failing_since: Set(None),
        previous_secret: Set(None),
        previous_secret_expires_at: Set(None),
        channel_id: Set(row.channel_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&**change)
    .await?;
    change.emit(types::WEBHOOK_CREATED, None, webhook_json(&created), None);
    Ok(created)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, webhook = id))]
pub async fn update_webhook(
    app: &Ctx,
    who: &Principal,
    id: &str,
    patch: WebhookPatch,
) -> AppResult<webhook::Model> {
    let url = match &patch.url {
        Some(url) => Some(check_url(app, url).await?),
        None => None,
    };
    let change = Change::begin(app, who).await?;
    accounts::one_change_at_a_time(&change, &who.organization_id).await?;
    let before = webhook_for_admin(&*change, who, id).await?;
    let mut active: webhook::ActiveModel = before.clone().into();
    if let Some(name) = patch.name {
        active.name = Set(required_text("name", &name, 200)?);
    }
    if let Some(url) = url {
        active.url = Set(url);
    }
    if let Some(secret) = patch.secret {
        let grace = Duration::from_secs(app.settings.secret_grace_seconds);
        rotate(app, &mut active, &before, check_secret(secret)?, grace)?;
    }
    if let Some(enabled) = patch.enabled {
        active.enabled = Set(enabled);
    }
    if let Some(events) = patch.events {
        active.events = Set(json!(check_events(events)?));
    }
    if let Some(project_ids) = patch.project_ids {
        active.project_ids = Set(json!(check_projects(&*change, who, project_ids).await?));
    }
    save_update(change, &before, active).await
}

/// Stores an edited webhook with its `WEBHOOK_UPDATED` event and commits.
pub(super) async fn save_update(
    mut change: Change<'_>,
    before: &webhook::Model,
    mut active: webhook::ActiveModel,
) -> AppResult<webhook::Model> {
    active.updated_at = Set(ids::now());
    let after = active.update(&*change).await?;
    change.emit(
        types::WEBHOOK_UPDATED,
        None,
        webhook_json(&after),
        Some(webhook_json(before)),
    );
    change.commit().await?;
    Ok(after)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, webhook = id))]
pub async fn delete_webhook(app: &Ctx, who: &Principal, id: &str) -> AppResult<webhook::Model> {
    let mut change = Change::begin(app, who).await?;
    accounts::one_change_at_a_time(&change, &who.organization_id).await?;
    let webhook = webhook_for_admin(&*change, who, id).await?;
    webhook.clone().delete(&*change).await?;
    let json = webhook_json(&webhook);
    change.emit(types::WEBHOOK_DELETED, None, json.clone(), Some(json));
    change.commit().await?;
    Ok(webhook)
}
