//! A webhook's signing secrets: checked, sealed at rest, rotated with a
//! grace period in which the old one still signs, and opened to sign.

use std::time::Duration;

use entity::webhook;
use sea_orm::ActiveValue::Set;

use super::{save_update, webhook_for_admin};
use crate::{
    auth::Principal,
    domain::{Ctx, change::Change, ids},
    error::{AppError, AppResult},
    secrets::{Secrets, purpose},
    signature,
};

pub(super) fn check_secret(secret: String) -> AppResult<String> {
    if secret.trim().is_empty() || secret.len() > 512 {
        return Err(AppError::validation(
            "`secret` must have 1 to 512 characters",
        ));
    }
    Ok(secret)
}

/// Sets a new secret, keeping the current one signing for `grace` so
/// receivers can switch over without rejecting deliveries in between.
pub(super) fn rotate(
    app: &Ctx,
    active: &mut webhook::ActiveModel,
    before: &webhook::Model,
    secret: String,
    grace: Duration,
) -> AppResult<()> {
    let current = secret_of(app, before)?;
    if secret == current {
        return Ok(());
    }
    let expires = ids::now() + chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
    if !grace.is_zero() && !current.is_empty() {
        // Sealed as it is: a previous secret is sealed as a secret.
        active.previous_secret = Set(Some(before.secret.clone()));
        active.previous_secret_expires_at = Set(Some(expires));
    } else {
        active.previous_secret = Set(None);
        active.previous_secret_expires_at = Set(None);
    }
    active.secret = Set(app.secrets.seal(purpose::WEBHOOK_SECRET, &secret));
    Ok(())
}

/// A webhook's signing secret, opened.
pub fn secret_of(app: &Ctx, w: &webhook::Model) -> AppResult<String> {
    app.secrets.open(purpose::WEBHOOK_SECRET, &w.secret)
}

/// Replaces a webhook's secret (generated when not given); the old one
/// keeps signing, next to the new, for `grace` (default
/// `SECRET_GRACE_SECONDS`).
#[tracing::instrument(skip_all, fields(org = %who.organization_id, webhook = id))]
pub async fn rotate_secret(
    app: &Ctx,
    who: &Principal,
    id: &str,
    secret: Option<String>,
    grace: Option<Duration>,
) -> AppResult<webhook::Model> {
    let secret = check_secret(secret.unwrap_or_else(signature::generate_secret))?;
    let grace = grace.unwrap_or(Duration::from_secs(app.settings.secret_grace_seconds));
    let change = Change::begin(app, who).await?;
    let before = webhook_for_admin(&*change, who, id).await?;
    let mut active: webhook::ActiveModel = before.clone().into();
    rotate(app, &mut active, &before, secret, grace)?;
    save_update(change, &before, active).await
}

/// The secrets a delivery is signed with now, opened: the current one,
/// then a rotated-out one still within its grace period.
pub fn signing_secrets(
    secrets: &Secrets,
    w: &webhook::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<String>> {
    let mut signing = vec![secrets.open(purpose::WEBHOOK_SECRET, &w.secret)?];
    if let (Some(previous), Some(until)) = (&w.previous_secret, w.previous_secret_expires_at)
        && until > now
    {
        signing.push(secrets.open(purpose::WEBHOOK_SECRET, previous)?);
    }
    signing.retain(|s| !s.is_empty());
    Ok(signing)
}
