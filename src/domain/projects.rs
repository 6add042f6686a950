//! Projects (binders, chat rooms, direct conversations) and who may see and
//! manage them. Every read of a project-owned object starts from
//! [`project_for_read`], so the visibility rule lives here only:
//! public rooms are visible to the whole organization; private rooms to
//! their members and the organization's admins; direct conversations to
//! their members only.

use std::collections::BTreeSet;

use entity::{project, project_member};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, ModelTrait,
    PaginatorTrait, QueryFilter, QueryResult, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait, Query},
};

use super::{
    accounts::{self, required_text},
    ids,
    json::project_json,
    pagination::{Direction, Page, PageRequest, fetch_page},
    scoped::select_by_id,
};
use crate::{
    auth::Principal,
    domain::Ctx,
    domain::change::Change,
    error::{AppError, AppResult},
    events::types,
};

pub const ROOM: &str = "room";
pub const DIRECT: &str = "direct";

#[derive(Debug, Default)]
pub struct NewProject {
    pub name: String,
    pub description: Option<String>,
    pub is_public: bool,
    pub is_message_thread: bool,
    /// Members besides the creator, who always joins and administers it.
    pub member_ids: Vec<String>,
}

#[derive(Debug, Default)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub archived: Option<bool>,
    pub is_public: Option<bool>,
    pub is_message_thread: Option<bool>,
    pub admin_user_id: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct ProjectFilter {
    pub archived: Option<bool>,
    pub kind: Option<String>,
    pub name: Option<String>,
}

/// A project the caller may see; anything else is not found. The project
/// and the caller's membership are read in one statement.
pub async fn project_for_read(
    conn: &impl ConnectionTrait,
    who: &Principal,
    project_id: &str,
) -> AppResult<project::Model> {
    let select = select_by_id::<project::Entity>(
        project_id,
        "project",
        Some((project::Column::OrganizationId, &who.organization_id)),
    )?
    .expr_as(caller_is_member(who), CALLER_IS_MEMBER);
    let row = conn
        .query_one(&select.into_query())
        .await?
        .ok_or(AppError::NotFound("project"))?;
    let project = project::Model::from_query_result(&row, "")?;
    readable(who, project, &row)
}

/// The column [`caller_is_member`] is selected as.
pub const CALLER_IS_MEMBER: &str = "caller_is_member";

/// Whether the caller is a member of the project the statement reads
/// (`projects.id`): selected beside the project as [`CALLER_IS_MEMBER`],
/// so that reading a project and checking who may see it is one
/// statement, not two. Every write to a project's objects starts there.
pub fn caller_is_member(who: &Principal) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(project_member::Entity)
            .and_where(
                Expr::col((project_member::Entity, project_member::Column::ProjectId))
                    .equals((project::Entity, project::Column::Id)),
            )
            .and_where(
                Expr::col((project_member::Entity, project_member::Column::UserId))
                    .eq(&who.user_id),
            )
            .take(),
    )
}

/// `project`, read from the caller's organization in the statement that
/// returned `row` with its [`CALLER_IS_MEMBER`] column, if the caller may
/// see it (the rule above); else `NOT_FOUND`.
pub fn readable(
    who: &Principal,
    project: project::Model,
    row: &QueryResult,
) -> AppResult<project::Model> {
    let open_to_all = project.kind == ROOM && (project.is_public || who.role.is_admin());
    if open_to_all || row.try_get::<bool>("", CALLER_IS_MEMBER)? {
        Ok(project)
    } else {
        Err(AppError::NotFound("project"))
    }
}

/// A project the caller may administer: its admin, or an organization admin.
pub async fn project_for_admin(
    conn: &impl ConnectionTrait,
    who: &Principal,
    project_id: &str,
) -> AppResult<project::Model> {
    let project = project_for_read(conn, who, project_id).await?;
    let is_project_admin = project.admin_user_id.as_deref() == Some(who.user_id.as_str());
    if is_project_admin || (project.kind == ROOM && who.role.is_admin()) {
        Ok(project)
    } else {
        Err(AppError::forbidden(
            "only the project's admin or an organization admin can do this",
        ))
    }
}

pub async fn is_member(
    conn: &impl ConnectionTrait,
    project_id: &str,
    user_id: &str,
) -> AppResult<bool> {
    Ok(project_member::Entity::find()
        .filter(project_member::Column::ProjectId.eq(project_id))
        .filter(project_member::Column::UserId.eq(user_id))
        .count(conn)
        .await?
        > 0)
}

pub async fn list_projects(
    app: &Ctx,
    who: &Principal,
    filter: &ProjectFilter,
    page: &PageRequest,
) -> AppResult<Page<project::Model>> {
    let mine = Query::select()
        .column(project_member::Column::ProjectId)
        .from(project_member::Entity)
        .and_where(project_member::Column::UserId.eq(&who.user_id))
        .to_owned();
    let mut visible = Condition::any().add(project::Column::Id.in_subquery(mine));
    let rooms = project::Column::Kind.eq(ROOM);
    visible = if who.role.is_admin() {
        visible.add(rooms)
    } else {
        visible.add(
            Condition::all()
                .add(rooms)
                .add(project::Column::IsPublic.eq(true)),
        )
    };
    let mut select = project::Entity::find()
        .filter(project::Column::OrganizationId.eq(&who.organization_id))
        .filter(visible);
    if let Some(archived) = filter.archived {
        select = select.filter(project::Column::Archived.eq(archived));
    }
    if let Some(kind) = &filter.kind {
        select = select.filter(project::Column::Kind.eq(kind.as_str()));
    }
    if let Some(name) = &filter.name {
        select = select.filter(project::Column::Name.eq(name.as_str()));
    }
    fetch_page(
        &app.db,
        select,
        project::Column::Id,
        Direction::Ascending,
        page,
    )
    .await
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id))]
pub async fn create_project(
    app: &Ctx,
    who: &Principal,
    input: NewProject,
) -> AppResult<project::Model> {
    let name = required_text("name", &input.name, 200)?;
    let org = accounts::organization(app, who).await?;
    let mut change = Change::begin(app, who).await?;
    let mut members: BTreeSet<String> = input.member_ids.into_iter().collect();
    members.insert(who.user_id.clone());
    ensure_organization_members(&*change, &who.organization_id, &members).await?;
    let fields = ProjectFields {
        kind: ROOM,
        name,
        description: input.description.unwrap_or_default(),
        is_public: input.is_public,
        is_message_thread: input.is_message_thread,
    };
    let project = insert_project(&mut change, who, &org, fields, &members).await?;
    change.commit().await?;
    Ok(project)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, project = project_id))]
pub async fn update_project(
    app: &Ctx,
    who: &Principal,
    project_id: &str,
    patch: ProjectPatch,
) -> AppResult<project::Model> {
    let org = accounts::organization(app, who).await?;
    let mut change = Change::begin(app, who).await?;
    let before = project_for_admin(&*change, who, project_id).await?;
    let mut active: project::ActiveModel = before.clone().into();
    if let Some(name) = patch.name {
        active.name = Set(required_text("name", &name, 200)?);
    }
    if let Some(description) = patch.description {
        active.description = Set(description);
    }
    if let Some(archived) = patch.archived {
        active.archived = Set(archived);
    }
    if let Some(is_public) = patch.is_public {
        active.is_public = Set(is_public);
    }
    if let Some(thread) = patch.is_message_thread {
        active.is_message_thread = Set(thread);
    }
    if let Some(admin) = patch.admin_user_id {
        if !is_member(&*change, &before.id, &admin).await? {
            return Err(AppError::validation(
                "the new admin must be a member of the project",
            ));
        }
        active.admin_user_id = Set(Some(admin));
    }
    active.updated_at = Set(ids::now());
    let after = active.update(&*change).await?;
    let (current, previous) = (project_json(&after, &org), project_json(&before, &org));
    change.emit(
        types::PROJECT_UPDATED,
        Some(&after.id),
        current,
        Some(previous),
    );
    change.commit().await?;
    Ok(after)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, project = project_id))]
pub async fn delete_project(
    app: &Ctx,
    who: &Principal,
    project_id: &str,
) -> AppResult<project::Model> {
    let org = accounts::organization(app, who).await?;
    let mut change = Change::begin(app, who).await?;
    let project = project_for_admin(&*change, who, project_id).await?;
    project.clone().delete(&*change).await?;
    let json = project_json(&project, &org);
    change.emit(
        types::PROJECT_DELETED,
        Some(&project.id),
        json.clone(),
        Some(json),
    );
    change.commit().await?;
    Ok(project)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, project = project_id))]
pub async fn add_project_member(
    app: &Ctx,
    who: &Principal,
    project_id: &str,
    user_id: &str,
) -> AppResult<project::Model> {
    let org = accounts::organization(app, who).await?;
    let mut change = Change::begin(app, who).await?;
    let project = project_for_admin(&*change, who, project_id).await?;
    ensure_organization_members(
        &*change,
        &who.organization_id,
        &BTreeSet::from([user_id.to_owned()]),
    )
    .await?;
    if is_member(&*change, &project.id, user_id).await? {
        return Err(AppError::conflict(
            "this user is already a member of the project",
        ));
    }
    insert_member(&change, &project.id, user_id).await?;
    let json = project_member_json(&project, &org, user_id);
    change.emit(types::PROJECT_MEMBER_ADDED, Some(&project.id), json, None);
    change.commit().await?;
    Ok(project)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, project = project_id))]
pub async fn remove_project_member(
    app: &Ctx,
    who: &Principal,
    project_id: &str,
    user_id: &str,
) -> AppResult<project::Model> {
    let org = accounts::organization(app, who).await?;
    let mut change = Change::begin(app, who).await?;
    // Members may leave on their own; removing others takes the admin.
    let project = if user_id == who.user_id {
        project_for_read(&*change, who, project_id).await?
    } else {
        project_for_admin(&*change, who, project_id).await?
    };
    let removed = project_member::Entity::delete_many()
        .filter(project_member::Column::ProjectId.eq(&project.id))
        .filter(project_member::Column::UserId.eq(user_id))
        .exec(&*change)
        .await?;
    if removed.rows_affected == 0 {
        return Err(AppError::NotFound("project member"));
    }
    let json = project_member_json(&project, &org, user_id);
    change.emit(
        types::PROJECT_MEMBER_REMOVED,
        Some(&project.id),
        json.clone(),
        Some(json),
    );
    change.commit().await?;
    Ok(project)
}

/// A project membership in event payloads: the user and the project.
fn project_member_json(
    project: &project::Model,
    org: &entity::organization::Model,
    user_id: &str,
) -> serde_json::Value {
    serde_json::json!({ "userId": user_id, "projectId": project.id, "project": project_json(project, org) })
}

/// The columns a new project starts with.
pub(super) struct ProjectFields {
    pub kind: &'static str,
    pub name: String,
    pub description: String,
    pub is_public: bool,
    pub is_message_thread: bool,
}

/// Inserts a project administered by its creator, with its members, and
/// records `PROJECT_CREATED`.
pub(super) async fn insert_project(
    change: &mut Change<'_>,
    who: &Principal,
    org: &entity::organization::Model,
    fields: ProjectFields,
    members: &BTreeSet<String>,
) -> AppResult<project::Model> {
    let now = ids::now();
    let project = project::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(who.organization_id.clone()),
        kind: Set(fields.kind.to_owned()),
        name: Set(fields.name),
        description: Set(fields.description),
        archived: Set(false),
        is_public: Set(fields.is_public),
        is_message_thread: Set(fields.is_message_thread),
        created_by_id: Set(Some(who.user_id.clone())),
        admin_user_id: Set(Some(who.user_id.clone())),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&**change)
    .await?;
    for user_id in members {
        insert_member(change, &project.id, user_id).await?;
    }
    change.emit(
        types::PROJECT_CREATED,
        Some(&project.id),
        project_json(&project, org),
        None,
    );
    Ok(project)
}

async fn insert_member(change: &Change<'_>, project_id: &str, user_id: &str) -> AppResult<()> {
    project_member::ActiveModel {
        id: Set(ids::new_id()),
        project_id: Set(project_id.to_owned()),
        user_id: Set(user_id.to_owned()),
        created_at: Set(ids::now()),
    }
    .insert(&**change)
    .await?;
    Ok(())
}

/// Fails with `BAD_USER_INPUT` naming the first id that is not a member of
/// the organization.
pub async fn ensure_organization_members(
    conn: &impl ConnectionTrait,
    organization_id: &str,
    user_ids: &BTreeSet<String>,
) -> AppResult<()> {
    let found: BTreeSet<String> = entity::membership::Entity::find()
        .filter(entity::membership::Column::OrganizationId.eq(organization_id))
        .filter(entity::membership::Column::UserId.is_in(user_ids.iter().cloned()))
        .select_only()
        .column(entity::membership::Column::UserId)
        .into_tuple::<String>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    match user_ids.iter().find(|id| !found.contains(*id)) {
        Some(missing) => Err(AppError::validation(format!(
            "user {missing} is not a member of this organization"
        ))),
        None => Ok(()),
    }
}
