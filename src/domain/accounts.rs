//! Registration, login and the look-ups behind a session.

use entity::{membership, organization, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};

use super::{email::Email, ids, views::Session};
use crate::{
    auth::{Principal, Role, password, throttle::Subject},
    domain::Ctx,
    error::{AppError, AppResult},
};

pub struct Registration {
    pub email: String,
    pub name: String,
    pub password: String,
    pub organization_name: String,
}

/// Creates a user and a new organization they own, and opens a session.
#[tracing::instrument(skip_all)]
pub async fn register(app: &Ctx, input: Registration) -> AppResult<Session> {
    let email = Email::parse(&input.email)?;
    let name = required_text("name", &input.name, 200)?;
    let org_name = required_text("organizationName", &input.organization_name, 200)?;
    password::validate(&input.password)?;
    if find_user_by_email(app, &email).await?.is_some() {
        return Err(AppError::conflict("a user with this e-mail already exists"));
    }
    let password_hash = password::hash(input.password).await?;
    let now = ids::now();

    let txn = app.db.begin().await?;
    let organization = organization::ActiveModel {
        id: Set(ids::new_id()),
        name: Set(org_name),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let user = user::ActiveModel {
        id: Set(ids::new_id()),
        email: Set(email.to_string()),
        name: Set(name),
        password_hash: Set(password_hash),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    // Two registrations racing for one address: the unique index decides.
    .map_err(AppError::conflict_if_duplicate(
        "a user with this e-mail already exists",
    ))?;
    membership::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(organization.id.clone()),
        user_id: Set(user.id.clone()),
        role: Set(Role::Owner.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;

    let token = app.jwt.issue(&user.id, &organization.id)?;
    Ok(Session {
        token,
        user,
        organization,
        role: Role::Owner,
    })
}

/// Checks e-mail and password and opens a session in `organization_id`, or
/// in the user's oldest membership when none is named.
#[tracing::instrument(skip_all)]
pub async fn login(
    app: &Ctx,
    email: &str,
    password_plain: String,
    organization_id: Option<&str>,
) -> AppResult<Session> {
    let invalid = || AppError::unauthenticated("e-mail or password is incorrect");
    let email = Email::parse(email).map_err(|_| invalid())?;
    let tries = Subject::login(email.as_str());
    app.throttle.try_once(&tries).await?;
    let user = find_user_by_email(app, &email).await?;
    // Verify against a throwaway hash for unknown users so the answer takes
    // as long either way and does not reveal which addresses exist.
    let (hash, user) = match user {
        Some(u) => (u.password_hash.clone(), Some(u)),
        None => (dummy_hash().await?, None),
    };
    let ok = password::verify(password_plain, hash).await?;
    let user = match (ok, user) {
        (true, Some(u)) => u,
        _ => return Err(invalid()),
    };
    app.throttle.succeeded(&tries).await;

    let mut memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(&user.id))
        .order_by_asc(membership::Column::CreatedAt)
        .find_also_related(organization::Entity);
    if let Some(org_id) = organization_id {
        memberships = memberships.filter(membership::Column::OrganizationId.eq(org_id));
    }
    let (membership, organization) = match memberships.one(&app.db).await? {
        Some((m, Some(o))) => (m, o),
        _ => {
            return Err(AppError::forbidden(
                "you are not a member of this organization",
            ));
        }
    };
    let role = membership.role.parse()?;
    let token = app.jwt.issue(&user.id, &organization.id)?;
    Ok(Session {
        token,
        user,
        organization,
        role,
    })
}

/// The principal for a session: the user must still be a member.
pub async fn principal_for_session(
    app: &Ctx,
    user_id: &str,
    organization_id: &str,
) -> AppResult<Option<Principal>> {
    let row = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::OrganizationId.eq(organization_id))
        .one(&app.db)
        .await?;
    row.map(|m| {
        Ok(Principal {
            user_id: m.user_id,
            organization_id: m.organization_id,
            role: m.role.parse()?,
            api_token_id: None,
        })
    })
    .transpose()
}

pub async fn user_by_id(app: &Ctx, id: &str) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound("user"))
}

pub async fn organization(app: &Ctx, who: &Principal) -> AppResult<organization::Model> {
    organization_by_id(app, &app.db, &who.organization_id).await
}

/// An organization by id, read on `conn` the first time this process needs
/// it (every payload nests one; see `Caches::organizations`).
pub async fn organization_by_id(
    app: &Ctx,
    conn: &impl sea_orm::ConnectionTrait,
    id: &str,
) -> AppResult<organization::Model> {
    if let Some(org) = app.caches.organizations.get(id) {
        return Ok(org);
    }
    let org = organization::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("organization"))?;
    (app.caches.organizations).insert(org.id.clone(), org.clone());
    Ok(org)
}

pub(crate) async fn find_user_by_email(app: &Ctx, email: &Email) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(&app.db)
        .await?)
}

async fn dummy_hash() -> AppResult<String> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| password::hash("not-a-real-password".into()))
        .await
        .cloned()
}

/// A non-blank text field of bounded length, trimmed.
pub fn required_text(field: &str, value: &str, max_chars: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::validation(format!("`{field}` must not be empty")));
    }
    if value.chars().count() > max_chars {
        return Err(AppError::validation(format!(
            "`{field}` must be at most {max_chars} characters"
        )));
    }
    Ok(value.to_owned())
}

/// Makes the organization's changes that call this run one at a time:
/// each locks the organization's row until it commits. Member role changes need it to count owners;
/// webhook changes, because each also rewrites the organization's webhook
/// version row and delivers its event to the other webhooks, whose rows a
/// concurrent delete holds: two deletes at once deadlocked (29 of 40 in a
/// probe). The lock leaves the key alone, so writes that merely refer to
/// the organization are not held up.
pub(crate) async fn one_change_at_a_time(
    change: &crate::domain::change::Change<'_>,
    organization_id: &str,
) -> AppResult<()> {
    let organization = organization::Entity::find_by_id(organization_id)
        .select_only()
        .column(organization::Column::Id)
        .into_query();
    Ok(change
        .lock(organization, sea_orm::sea_query::LockType::NoKeyUpdate)
        .await?)
}
