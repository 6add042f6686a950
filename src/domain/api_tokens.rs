//! API tokens: created by any member for themselves, listed and revoked by
//! their owner or by an admin. A token acts with its user's current role, so
//! removing a member disables their tokens too.

use entity::{api_token, membership};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::{
    accounts::required_text,
    ids,
    pagination::{Direction, Page, PageRequest, fetch_page},
    scoped::find_by_id,
    views::CreatedApiToken,
};
use crate::{
    auth::{Principal, api_token as secret},
    domain::Ctx,
    error::AppResult,
};

/// Tokens touched within this window are not written again on every use.
const LAST_USED_RESOLUTION: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

#[tracing::instrument(skip_all, fields(org = %who.organization_id))]
pub async fn create_api_token(
    app: &Ctx,
    who: &Principal,
    name: &str,
) -> AppResult<CreatedApiToken> {
    let name = required_text("name", name, 100)?;
    let (token, token_hash) = secret::generate();
    let row = api_token::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(who.organization_id.clone()),
        user_id: Set(who.user_id.clone()),
        name: Set(name),
        prefix: Set(secret::display_prefix(&token)),
        token_hash: Set(token_hash),
        created_at: Set(ids::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&app.db)
    .await?;
    Ok(CreatedApiToken {
        token,
        api_token: row,
    })
}

/// The caller's own tokens; an admin sees every token of the organization.
pub async fn list_api_tokens(
    app: &Ctx,
    who: &Principal,
    include_revoked: bool,
    page: &PageRequest,
) -> AppResult<Page<api_token::Model>> {
    let mut select = api_token::Entity::find()
        .filter(api_token::Column::OrganizationId.eq(&who.organization_id));
    if !who.role.is_admin() {
        select = select.filter(api_token::Column::UserId.eq(&who.user_id));
    }
    if !include_revoked {
        select = select.filter(api_token::Column::RevokedAt.is_null());
    }
    fetch_page(
        &app.db,
        select,
        api_token::Column::Id,
        Direction::Ascending,
        page,
    )
    .await
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, token = id))]
pub async fn revoke_api_token(app: &Ctx, who: &Principal, id: &str) -> AppResult<api_token::Model> {
    let token = find_by_id::<api_token::Entity>(
        &app.db,
        id,
        "API token",
        Some((api_token::Column::OrganizationId, &who.organization_id)),
    )
    .await?;
    if token.user_id != who.user_id {
        who.require_admin()?;
    }
    if token.revoked_at.is_some() {
        return Ok(token);
    }
    let mut active: api_token::ActiveModel = token.into();
    active.revoked_at = Set(Some(ids::now()));
    let revoked = active.update(&app.db).await?;
    app.principals.clear();
    Ok(revoked)
}

/// The principal behind a presented API token, if it is live and its user is
/// still a member of the token's organization.
pub async fn principal_for_token(app: &Ctx, plaintext: &str) -> AppResult<Option<Principal>> {
    let hash = secret::hash(plaintext);
    let Some(token) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(&app.db)
        .await?
    else {
        return Ok(None);
    };
    let Some(member) = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(&token.organization_id))
        .filter(membership::Column::UserId.eq(&token.user_id))
        .one(&app.db)
        .await?
    else {
        return Ok(None);
    };
    touch(app, &token);
    Ok(Some(Principal {
        user_id: token.user_id,
        organization_id: token.organization_id,
        role: member.role.parse()?,
        api_token_id: Some(token.id),
    }))
}

/// Records use of a token in the background, at most once a minute per token,
/// so authentication never waits on a write.
fn touch(app: &Ctx, token: &api_token::Model) {
    let now = ids::now();
    if token
        .last_used_at
        .is_some_and(|t| now - t < LAST_USED_RESOLUTION)
    {
        return;
    }
    let db = app.db.clone();
    let id = token.id.clone();
    tokio::spawn(async move {
        let result = api_token::Entity::update_many()
            .col_expr(
                api_token::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(api_token::Column::Id.eq(id))
            .exec(&db)
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not record API token use");
        }
    });
}
