//! Quick calls: an ad-hoc meeting URL that works until it expires,
//! optionally behind a password.

use chrono::{DateTime, Utc};
use entity::quick_call;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::{accounts, ids, json::quick_call_json};
use crate::{
    auth::{Principal, password, throttle::Subject},
    domain::Ctx,
    domain::change::Change,
    error::{AppError, AppResult},
    events::types,
    secrets::purpose,
};

/// The meeting URL of a quick call, as its creator and joiners see it:
/// the models this module returns carry the token opened.
pub fn call_url(app: &Ctx, call: &quick_call::Model) -> String {
    format!("{}/calls/{}", app.settings.public_base_url(), call.token)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id))]
pub async fn create_quick_call(
    app: &Ctx,
    who: &Principal,
    expires_at: DateTime<Utc>,
    call_password: Option<String>,
) -> AppResult<quick_call::Model> {
    if expires_at <= Utc::now() {
        return Err(AppError::validation(
            "the expiry of a quick call must be in the future",
        ));
    }
    let password_hash = match call_password.filter(|p| !p.is_empty()) {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };
    let org = accounts::organization(app, who).await?;
    let mut change = Change::begin(app, who).await?;
    let token = ids::random_token(18);
    let call = quick_call::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(who.organization_id.clone()),
        token: Set(app.secrets.seal(purpose::QUICK_CALL_TOKEN, &token)),
        token_hash: Set(Some(app.secrets.lookup(purpose::QUICK_CALL_TOKEN, &token))),
        password_hash: Set(password_hash),
        expires_at: Set(expires_at),
        created_by_id: Set(Some(who.user_id.clone())),
        created_at: Set(ids::now()),
    }
    .insert(&*change)
    .await?;
    // The event is stored and delivered: it tells of the call, not its URL,
    // which admits whoever holds it.
    change.emit(
        types::QUICK_CALL_CREATED,
        None,
        quick_call_json(&call, &org),
        None,
    );
    change.commit().await?;
    Ok(quick_call::Model { token, ..call })
}

/// Admits someone to a quick call: it must exist, not have expired, and the
/// password must match when it has one.
pub async fn join_quick_call(
    app: &Ctx,
    token: &str,
    call_password: Option<String>,
) -> AppResult<quick_call::Model> {
    let call = quick_call::Entity::find()
        .filter(
            quick_call::Column::TokenHash.eq(app.secrets.lookup(purpose::QUICK_CALL_TOKEN, token)),
        )
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound("quick call"))?;
    let call = quick_call::Model {
        token: token.to_owned(),
        ..call
    };
    if call.expires_at <= Utc::now() {
        return Err(AppError::validation(format!(
            "this quick call expired at {}",
            call.expires_at.to_rfc3339()
        )));
    }
    if let Some(hash) = &call.password_hash {
        let tries = Subject::quick_call(&call.id);
        app.throttle.try_once(&tries).await?;
        let given = call_password.unwrap_or_default();
        if !password::verify(given, hash.clone()).await? {
            return Err(AppError::unauthenticated(
                "the quick call password is incorrect",
            ));
        }
        app.throttle.succeeded(&tries).await;
    }
    Ok(call)
}
