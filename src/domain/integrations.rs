//! Inbound integrations (BeTalk's shape): a third-party service posting
//! into a project at `PUBLIC_URL/webhooks/<token>`. Admins of the
//! organization manage them; whoever can see the project can list them.

use std::collections::BTreeMap;

use entity::{integration, project};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait,
    QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

use super::{ids, projects::project_for_read, scoped::find_by_id};
use crate::{
    auth::Principal,
    config::Settings,
    domain::Ctx,
    domain::change::Change,
    error::{AppError, AppResult},
    events::types,
    inbound::Service,
    secrets::{Secrets, purpose},
};

/// What an inbound webhook creates in the project.
pub const ACTIONS: &[&str] = &["chat", "page", "todo"];
const MAX_DESCRIPTION_CHARS: usize = 1_000;

#[derive(Debug, Default)]
pub struct NewIntegration {
    pub service: String,
    pub action: String,
    pub description: Option<String>,
    pub secret: Option<String>,
}

/// Fields to change; `secret: Some(None)` removes verification.
#[derive(Debug, Default)]
pub struct IntegrationPatch {
    pub action: Option<String>,
    pub description: Option<String>,
    pub secret: Option<Option<String>>,
}

pub fn service_of(i: &integration::Model) -> Service {
    // Stored values were parsed on the way in.
    i.service.parse().unwrap_or(Service::Incoming)
}

/// `i` with its token and secret opened: every integration this module
/// returns is.
fn opened(secrets: &Secrets, i: integration::Model) -> AppResult<integration::Model> {
    Ok(integration::Model {
        token: secrets.open(purpose::INTEGRATION_TOKEN, &i.token)?,
        secret: secrets.open_optional(purpose::INTEGRATION_SECRET, i.secret.as_deref())?,
        ..i
    })
}

/// `PUBLIC_URL/webhooks/<token>`: where the service is told to post.
pub fn webhook_url(settings: &Settings, i: &integration::Model) -> String {
    format!("{}/webhooks/{}", settings.public_base_url(), i.token)
}

/// The integration in events: never its token or secret.
pub fn integration_json(i: &integration::Model) -> Value {
    json!({
        "id": i.id,
        "projectId": i.project_id,
        "service": i.service,
        "action": i.action,
        "description": i.description,
        "verified": i.secret.is_some(),
        "createdById": i.created_by_id,
        "createdAt": i.created_at,
        "updatedAt": i.updated_at,
    })
}

fn check_action(action: &str) -> AppResult<String> {
    let action = action.trim().to_ascii_lowercase();
    if ACTIONS.contains(&action.as_str()) {
        Ok(action)
    } else {
        Err(AppError::validation(format!(
            "unknown action {action:?}; expected chat, page or todo"
        )))
    }
}

fn check_description(description: Option<String>) -> AppResult<String> {
    let description = description.unwrap_or_default().trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::validation(format!(
            "`description` must be at most {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    Ok(description)
}

fn check_secret(secret: Option<String>) -> AppResult<Option<String>> {
    match secret {
        None => Ok(None),
        Some(s) if s.is_empty() || s.len() > 512 => Err(AppError::validation(
            "`secret` must have 1 to 512 characters",
        )),
        Some(s) => Ok(Some(s)),
    }
}

pub async fn integration_for_admin(
    conn: &impl ConnectionTrait,
    secrets: &Secrets,
    who: &Principal,
    id: &str,
) -> AppResult<integration::Model> {
    who.require_admin()?;
    let found = find_by_id::<integration::Entity>(
        conn,
        id,
        "integration",
        Some((integration::Column::OrganizationId, &who.organization_id)),
    )
    .await?;
    project_for_read(conn, who, &found.project_id)
        .await
        .map_err(AppError::not_found_as("integration"))?;
    opened(secrets, found)
}

/// The integration a webhook URL names, with its project (read here, in
/// the same statement, so that posting into the project needs no read
/// inside its write transaction); `NOT_FOUND` for any other token.
pub async fn integration_by_token(
    conn: &impl ConnectionTrait,
    secrets: &Secrets,
    token: &str,
) -> AppResult<(integration::Model, project::Model)> {
    if token.is_empty() || token.len() > 64 {
        return Err(AppError::NotFound("integration"));
    }
    let hash = secrets.lookup(purpose::INTEGRATION_TOKEN, token);
    match integration::Entity::find()
        .filter(integration::Column::TokenHash.eq(hash))
        .find_also_related(project::Entity)
        .one(conn)
        .await?
    {
        Some((integration, Some(project))) => Ok((opened(secrets, integration)?, project)),
        _ => Err(AppError::NotFound("integration")),
    }
}

/// A project's integrations, oldest first.
pub async fn list_project_integrations(
    app: &Ctx,
    who: &Principal,
    project_id: &str,
) -> AppResult<(project::Model, Vec<integration::Model>)> {
    let project = project_for_read(&app.db, who, project_id).await?;
    let list = integration::Entity::find()
        .filter(integration::Column::ProjectId.eq(&project.id))
        .order_by_asc(integration::Column::Id)
        .all(&app.db)
        .await?;
    let list = list.into_iter().map(|i| opened(&app.secrets, i));
    Ok((project, list.collect::<AppResult<_>>()?))
}

/// The integrations of every project the caller can see, by project.
pub async fn list_my_integrations(
    app: &Ctx,
    who: &Principal,
) -> AppResult<Vec<(String, Vec<integration::Model>)>> {
    let all = integration::Entity::find()
        .filter(integration::Column::OrganizationId.eq(&who.organization_id))
        .order_by_asc(integration::Column::ProjectId)
        .order_by_asc(integration::Column::Id)
        .all(&app.db)
        .await?;
    let mut by_project: BTreeMap<String, Vec<integration::Model>> = BTreeMap::new();
    for i in all {
        let i = opened(&app.secrets, i)?;
        by_project.entry(i.project_id.clone()).or_default().push(i);
    }
    let mut visible = Vec::with_capacity(by_project.len());
    for (project_id, list) in by_project {
        if project_for_read(&app.db, who, &project_id).await.is_ok() {
            visible.push((project_id, list));
        }
    }
    Ok(visible)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, project = project_id))]
pub async fn create_integration(
    app: &Ctx,
    who: &Principal,
    project_id: &str,
    input: NewIntegration,
) -> AppResult<integration::Model> {
    who.require_admin()?;
    let service: Service = input.service.parse()?;
    let action = check_action(&input.action)?;
    let description = check_description(input.description)?;
    let secret = check_secret(input.secret)?;
    let mut change = Change::begin(app, who).await?;
    let project = project_for_read(&*change, who, project_id).await?;
    let now = ids::now();
    let token = ids::random_token(32);
    let created = integration::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(who.organization_id.clone()),
        project_id: Set(project.id.clone()),
        service: Set(service.as_str().to_owned()),
        action: Set(action),
        description: Set(description),
        secret: Set(app
            .secrets
            .seal_optional(purpose::INTEGRATION_SECRET, secret.as_deref())),
        token: Set(app.secrets.seal(purpose::INTEGRATION_TOKEN, &token)),
        token_hash: Set(Some(app.secrets.lookup(purpose::INTEGRATION_TOKEN, &token))),
        todo_list_id: Set(None),
        created_by_id: Set(Some(who.user_id.clone())),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*change)
    .await?;
    change.emit(
        types::INTEGRATION_CREATED,
        Some(&project.id),
        integration_json(&created),
        None,
    );
    change.commit().await?;
    opened(&app.secrets, created)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, integration = id))]
pub async fn update_integration(
    app: &Ctx,
    who: &Principal,
    id: &str,
    patch: IntegrationPatch,
) -> AppResult<integration::Model> {
    let mut change = Change::begin(app, who).await?;
    let before = integration_for_admin(&*change, &app.secrets, who, id).await?;
    let mut active: integration::ActiveModel = before.clone().into();
    if let Some(action) = patch.action {
        active.action = Set(check_action(&action)?);
    }
    if let Some(description) = patch.description {
        active.description = Set(check_description(Some(description))?);
    }
    if let Some(secret) = patch.secret {
        let secret = check_secret(secret)?;
        let sealed = app
            .secrets
            .seal_optional(purpose::INTEGRATION_SECRET, secret.as_deref());
        active.secret = Set(sealed);
    }
    active.updated_at = Set(ids::now());
    let after = active.update(&*change).await?;
    change.emit(
        types::INTEGRATION_UPDATED,
        Some(&after.project_id),
        integration_json(&after),
        Some(integration_json(&before)),
    );
    change.commit().await?;
    opened(&app.secrets, after)
}

/// Deletes an integration; with `project_id`, only if it belongs to that
/// project (BeTalk's `DELETE /{binder_id}/integrations/{id}`).
#[tracing::instrument(skip_all, fields(org = %who.organization_id, integration = id))]
pub async fn delete_integration(
    app: &Ctx,
    who: &Principal,
    project_id: Option<&str>,
    id: &str,
) -> AppResult<integration::Model> {
    let mut change = Change::begin(app, who).await?;
    let found = integration_for_admin(&*change, &app.secrets, who, id).await?;
    if project_id.is_some_and(|p| p != found.project_id) {
        return Err(AppError::NotFound("integration"));
    }
    found.clone().delete(&*change).await?;
    change.emit(
        types::INTEGRATION_DELETED,
        Some(&found.project_id),
        integration_json(&found),
        Some(integration_json(&found)),
    );
    change.commit().await?;
    Ok(found)
}
