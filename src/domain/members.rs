//! Organization membership: who belongs, with which role. Admins manage
//! members; only owners hand out or take away ownership, and an organization
//! always keeps at least one owner. People join by invitation
//! (`invitations`).

use entity::{membership, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait,
    PaginatorTrait, QueryFilter, QuerySelect,
};

use super::{
    accounts, ids,
    pagination::{Direction, Page, PageRequest, fetch_page},
    views::{MemberView, member_json},
};
use crate::{
    auth::{Principal, Role},
    domain::Ctx,
    domain::change::Change,
    error::{AppError, AppResult},
    events::types,
};

pub async fn list_members(
    app: &Ctx,
    who: &Principal,
    page: &PageRequest,
) -> AppResult<Page<MemberView>> {
    let select = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(&who.organization_id));
    let page = fetch_page(
        &app.db,
        select,
        membership::Column::Id,
        Direction::Ascending,
        page,
    )
    .await?;
    let user_ids: Vec<_> = page.items.iter().map(|m| m.user_id.clone()).collect();
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(user_ids))
        .all(&app.db)
        .await?;
    let mut out = Vec::with_capacity(page.items.len());
    for m in &page.items {
        let user = users
            .iter()
            .find(|u| u.id == m.user_id)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("membership {} has no user", m.id))?;
        out.push(MemberView {
            membership: m.clone(),
            user,
        });
    }
    Ok(Page {
        items: out,
        has_next_page: page.has_next_page,
        total_count: page.total_count,
    })
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, member = member_id))]
pub async fn update_member_role(
    app: &Ctx,
    who: &Principal,
    member_id: &str,
    role: Role,
) -> AppResult<MemberView> {
    who.require_admin()?;
    let org = accounts::organization(app, who).await?;
    let mut change = Change::begin(app, who).await?;
    // Checked again with the role the caller has now.
    let who = &one_at_a_time(&change, who).await?;
    who.require_admin()?;
    let (current, user) = find_member(&*change, who, member_id).await?;
    let previous_role: Role = current.role.parse()?;
    require_owner_for(who, previous_role.max(role))?;
    if previous_role == role {
        return Ok(MemberView {
            membership: current,
            user,
        });
    }
    if previous_role == Role::Owner {
        ensure_another_owner(&*change, &who.organization_id).await?;
    }
    let before = MemberView {
        membership: current.clone(),
        user: user.clone(),
    };
    let mut active: membership::ActiveModel = current.into();
    active.role = Set(role.as_str().to_owned());
    active.updated_at = Set(ids::now());
    let after = MemberView {
        membership: active.update(&*change).await?,
        user,
    };
    let (current, previous) = (member_json(&after, &org), member_json(&before, &org));
    change.emit(types::MEMBER_ROLE_CHANGED, None, current, Some(previous));
    change.commit().await?;
    app.principals.clear();
    Ok(after)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, member = member_id))]
pub async fn remove_member(app: &Ctx, who: &Principal, member_id: &str) -> AppResult<MemberView> {
    let org = accounts::organization(app, who).await?;
    let mut change = Change::begin(app, who).await?;
    let who = &one_at_a_time(&change, who).await?;
    let (current, user) = find_member(&*change, who, member_id).await?;
    let role: Role = current.role.parse()?;
    // Anyone may leave; removing somebody else takes an admin (an owner, to
    // remove an owner).
    if current.user_id != who.user_id {
        who.require_admin()?;
        require_owner_for(who, role)?;
    }
    if role == Role::Owner {
        ensure_another_owner(&*change, &who.organization_id).await?;
    }
    let view = MemberView {
        membership: current.clone(),
        user,
    };
    current.delete(&*change).await?;
    let json = member_json(&view, &org);
    change.emit(types::MEMBER_REMOVED, None, json.clone(), Some(json));
    change.commit().await?;
    app.principals.clear();
    Ok(view)
}

/// Makes `change` the only change of the organization's roles in flight
/// and returns the caller with their role as it is now. Each check then
/// sees what the change before it left: two owners demoting or removing
/// each other at once would otherwise both count two owners and leave
/// none, and a caller demoted a moment ago would still act with the role
/// their request began with. PostgreSQL locks the organization's row;
/// SQLite's write transactions already run one at a time.
async fn one_at_a_time(change: &Change<'_>, who: &Principal) -> AppResult<Principal> {
    accounts::one_change_at_a_time(change, &who.organization_id).await?;
    let role: String = membership::Entity::find()
        .select_only()
        .column(membership::Column::Role)
        .filter(membership::Column::OrganizationId.eq(&who.organization_id))
        .filter(membership::Column::UserId.eq(&who.user_id))
        .into_tuple()
        .one(&**change)
        .await?
        .ok_or_else(|| {
            AppError::unauthenticated("you are no longer a member of this organization")
        })?;
    Ok(Principal {
        role: role.parse()?,
        ..who.clone()
    })
}

/// A membership of the caller's organization; any other id is not found.
async fn find_member(
    conn: &impl ConnectionTrait,
    who: &Principal,
    member_id: &str,
) -> AppResult<(membership::Model, user::Model)> {
    if !ids::is_valid(member_id) {
        return Err(AppError::NotFound("member"));
    }
    match membership::Entity::find_by_id(member_id)
        .filter(membership::Column::OrganizationId.eq(&who.organization_id))
        .find_also_related(user::Entity)
        .one(conn)
        .await?
    {
        Some((m, Some(u))) => Ok((m, u)),
        _ => Err(AppError::NotFound("member")),
    }
}

pub(super) fn require_owner_for(who: &Principal, role: Role) -> AppResult<()> {
    if role == Role::Owner && who.role != Role::Owner {
        return Err(AppError::forbidden(
            "only an owner can grant or change the owner role",
        ));
    }
    Ok(())
}

async fn ensure_another_owner(conn: &impl ConnectionTrait, organization_id: &str) -> AppResult<()> {
    let owners = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(organization_id))
        .filter(membership::Column::Role.eq(Role::Owner.as_str()))
        .count(conn)
        .await?;
    if owners <= 1 {
        return Err(AppError::conflict(
            "an organization must keep at least one owner",
        ));
    }
    Ok(())
}
