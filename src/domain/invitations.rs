//! Invitations: how a person joins an organization. An admin invites an
//! e-mail with a role and is shown, once, the invitation's token to pass
//! on; the person signed in with that e-mail accepts with it (or lets it
//! lapse). Nothing is attached without their consent, the inviting admin
//! learns nothing about the account (a registered and an unknown e-mail
//! get the same answer), and whoever registers the invited address
//! without the token cannot join. E-mail addresses are not verified.

use chrono::{DateTime, Utc};
use entity::{invitation, membership, organization};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter,
    sea_query::Expr,
};

use super::{
    accounts,
    email::Email,
    ids,
    members::require_owner_for,
    pagination::{Direction, Page, PageRequest, fetch_page},
    views::{MemberView, Session, member_json},
};
use crate::{
    auth::{Principal, Role},
    domain::{Ctx, change::Change},
    error::{AppError, AppResult},
    events::types,
    secrets::purpose,
};

/// How long an invitation may be accepted.
pub const LIFETIME: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// An invitation and the organization it is to.
pub struct InvitationView {
    pub invitation: invitation::Model,
    pub organization: organization::Model,
    /// The token to accept it with: only as the invitation is made.
    pub token: Option<String>,
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

pub fn status(invitation: &invitation::Model, now: DateTime<Utc>) -> Status {
    match invitation {
        i if i.accepted_at.is_some() => Status::Accepted,
        i if i.revoked_at.is_some() => Status::Revoked,
        i if i.expires_at <= now => Status::Expired,
        _ => Status::Pending,
    }
}

/// The invitations still open to acceptance.
fn pending(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(invitation::Column::AcceptedAt.is_null())
        .add(invitation::Column::RevokedAt.is_null())
        .add(invitation::Column::ExpiresAt.gt(now))
}

/// Invites `email` to the caller's organization with `role` (admins;
/// owners to invite an owner). Inviting an e-mail with a pending
/// invitation renews it with the new role.
#[tracing::instrument(skip_all, fields(org = %who.organization_id))]
pub async fn invite(
    app: &Ctx,
    who: &Principal,
    email: &str,
    role: Role,
) -> AppResult<InvitationView> {
    who.require_admin()?;
    require_owner_for(who, role)?;
    let email = Email::parse(email)?;
    let organization = accounts::organization(app, who).await?;
    if let Some(user) = accounts::find_user_by_email(app, &email).await?
        && accounts::principal_for_session(app, &user.id, &who.organization_id)
            .await?
            .is_some()
    {
        // Only the organization's own members are told apart: the admin
        // can list them anyway.
        return Err(AppError::conflict(
            "this e-mail already belongs to a member of the organization",
        ));
    }
    let now = ids::now();
    let token = ids::random_token(24);
    let token_hash = app.secrets.lookup(purpose::INVITATION_TOKEN, &token);
    let open = invitation::Entity::find()
        .filter(invitation::Column::OrganizationId.eq(&who.organization_id))
        .filter(invitation::Column::Email.eq(email.as_str()))
        .filter(pending(now))
        .one(&app.db)
        .await?;
    let txn = app.db.begin().await?;
    let invitation = match open {
        Some(open) => {
            let mut renewed: invitation::ActiveModel = open.into();
            renewed.role = Set(role.as_str().to_owned());
            // A new token: the one passed on before no longer admits.
            renewed.token_hash = Set(token_hash);
            renewed.invited_by_id = Set(Some(who.user_id.clone()));
            renewed.expires_at = Set(now + LIFETIME);
            renewed.update(&txn).await?
        }
        None => {
            invitation::ActiveModel {
                id: Set(ids::new_id()),
                organization_id: Set(who.organization_id.clone()),
                email: Set(email.to_string()),
                role: Set(role.as_str().to_owned()),
                token_hash: Set(token_hash),
                invited_by_id: Set(Some(who.user_id.clone())),
                created_at: Set(now),
                expires_at: Set(now + LIFETIME),
                accepted_at: Set(None),
                revoked_at: Set(None),
            }
            .insert(&txn)
            .await?
        }
    };
    txn.commit().await?;
    Ok(InvitationView {
        invitation,
        organization,
        token: Some(token),
    })
}

/// The organization's pending invitations, oldest first (admins).
pub async fn list(
    app: &Ctx,
    who: &Principal,
    page: &PageRequest,
) -> AppResult<Page<InvitationView>> {
    who.require_admin()?;
    let organization = accounts::organization(app, who).await?;
    let select = invitation::Entity::find()
        .filter(invitation::Column::OrganizationId.eq(&who.organization_id))
        .filter(pending(ids::now()));
    let page = fetch_page(
        &app.db,
        select,
        invitation::Column::Id,
        Direction::Ascending,
        page,
    )
    .await?;
    Ok(page.map(|invitation| InvitationView {
        invitation,
        organization: organization.clone(),
        token: None,
    }))
}

/// Withdraws a pending invitation (admins; owners for an owner's).
#[tracing::instrument(skip_all, fields(org = %who.organization_id, invitation = id))]
pub async fn revoke(app: &Ctx, who: &Principal, id: &str) -> AppResult<InvitationView> {
    who.require_admin()?;
    let organization = accounts::organization(app, who).await?;
    let found = find(app, id)
        .await?
        .filter(|i| i.organization_id == who.organization_id)
        .ok_or(AppError::NotFound("invitation"))?;
    require_owner_for(who, found.role.parse()?)?;
    if status(&found, ids::now()) != Status::Pending {
        return Err(AppError::conflict(
            "only a pending invitation can be revoked",
        ));
    }
    let mut revoked: invitation::ActiveModel = found.into();
    revoked.revoked_at = Set(Some(ids::now()));
    let invitation = revoked.update(&app.db).await?;
    Ok(InvitationView {
        invitation,
        organization,
        token: None,
    })
}

/// Accepts a pending invitation to the caller's e-mail with its token:
/// the caller joins its organization with its role, and gets a session
/// there. Any other invitation, whoever's and whatever its state, or a
/// wrong token, is not found.
#[tracing::instrument(skip_all, fields(invitation = id))]
pub async fn accept(app: &Ctx, who: &Principal, id: &str, token: &str) -> AppResult<Session> {
    let user = accounts::user_by_id(app, &who.user_id).await?;
    let found = find(app, id)
        .await?
        .ok_or(AppError::NotFound("invitation"))?;
    let organization = accounts::organization_by_id(app, &app.db, &found.organization_id).await?;
    let role: Role = found.role.parse()?;
    let now = ids::now();
    let mut change = Change::begin_for(app, &organization.id, Some(user.id.clone())).await?;
    // Checked and taken in one statement, so a revocation or a second
    // acceptance racing this one leaves one outcome.
    let taken = invitation::Entity::update_many()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(now))
        .filter(invitation::Column::Id.eq(&found.id))
        .filter(invitation::Column::Email.eq(&user.email))
        .filter(
            invitation::Column::TokenHash.eq(app.secrets.lookup(purpose::INVITATION_TOKEN, token)),
        )
        .filter(pending(now))
        .exec(&*change)
        .await?;
    if taken.rows_affected != 1 {
        return Err(AppError::NotFound("invitation"));
    }
    let membership = membership::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(organization.id.clone()),
        user_id: Set(user.id.clone()),
        role: Set(role.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*change)
    .await
    .map_err(AppError::conflict_if_duplicate(
        "you are already a member of this organization",
    ))?;
    let view = MemberView { membership, user };
    change.emit(
        types::MEMBER_ADDED,
        None,
        member_json(&view, &organization),
        None,
    );
    change.commit().await?;
    app.principals.clear();
    let token = app.jwt.issue(&view.user.id, &organization.id)?;
    Ok(Session {
        token,
        user: view.user,
        organization,
        role,
    })
}

async fn find(app: &Ctx, id: &str) -> AppResult<Option<invitation::Model>> {
    if !ids::is_valid(id) {
        return Ok(None);
    }
    Ok(invitation::Entity::find_by_id(id).one(&app.db).await?)
}
