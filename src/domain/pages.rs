//! Pages of a project.

use entity::{page, project};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait,
    QueryFilter,
};

use super::{
    accounts::{self, required_text},
    ids,
    json::{page_json, project_json},
    pagination::{Direction, Page, PageRequest, fetch_page},
    projects::project_for_read,
    scoped::find_by_id,
};
use crate::{
    auth::Principal,
    domain::Ctx,
    domain::change::Change,
    error::{AppError, AppResult},
    events::types,
};

pub const MAX_BODY_CHARS: usize = 200_000;

#[derive(Debug, Default)]
pub struct PagePatch {
    pub title: Option<String>,
    pub body: Option<String>,
}

fn check_body(body: &str) -> AppResult<()> {
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(AppError::validation(format!(
            "`body` must be at most {MAX_BODY_CHARS} characters"
        )));
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, project = project_id))]
pub async fn create_page(
    app: &Ctx,
    who: &Principal,
    project_id: &str,
    title: &str,
    body: &str,
) -> AppResult<page::Model> {
    // Read before the write transaction begins, as for a message: on
    // PostgreSQL the page, held back, then goes with its event and
    // deliveries as one statement (see `Change::commit`).
    let project = project_for_read(&app.db, who, project_id).await?;
    let mut change = Change::begin(app, who).await?;
    let page = insert_page(
        &mut change,
        &project,
        title,
        body,
        Some(who.user_id.clone()),
    )
    .await?;
    change.commit().await?;
    Ok(page)
}

/// Writes a page and its `PAGE_CREATED` event inside `change`.
pub async fn insert_page(
    change: &mut Change<'_>,
    project: &project::Model,
    title: &str,
    body: &str,
    created_by_id: Option<String>,
) -> AppResult<page::Model> {
    let title = required_text("title", title, 500)?;
    check_body(body)?;
    let now = ids::now();
    let page = page::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(project.organization_id.clone()),
        project_id: Set(project.id.clone()),
        title: Set(title),
        body: Set(body.to_owned()),
        created_by_id: Set(created_by_id),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let page = change.insert_or_hold(page).await?;
    let org =
        accounts::organization_by_id(change.ctx(), &**change, &project.organization_id).await?;
    change.emit(
        types::PAGE_CREATED,
        Some(&project.id),
        page_json(&page, project_json(project, &org)),
        None,
    );
    Ok(page)
}

pub async fn page_for_read(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
) -> AppResult<page::Model> {
    let page = find_by_id::<page::Entity>(
        conn,
        id,
        "page",
        Some((page::Column::OrganizationId, &who.organization_id)),
    )
    .await?;
    project_for_read(conn, who, &page.project_id)
        .await
        .map_err(AppError::not_found_as("page"))?;
    Ok(page)
}

/// `project` must come from [`super::projects::project_for_read`]: holding it
/// is the proof that the caller may see the project.
pub async fn list_pages(
    app: &Ctx,
    project: &entity::project::Model,
    page: &PageRequest,
) -> AppResult<Page<page::Model>> {
    let select = page::Entity::find().filter(page::Column::ProjectId.eq(&project.id));
    fetch_page(
        &app.db,
        select,
        page::Column::Id,
        Direction::Ascending,
        page,
    )
    .await
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, page = id))]
pub async fn update_page(
    app: &Ctx,
    who: &Principal,
    id: &str,
    patch: PagePatch,
) -> AppResult<page::Model> {
    let org = accounts::organization(app, who).await?;
    let mut change = Change::begin(app, who).await?;
    let before = page_for_read(&*change, who, id).await?;
    let project = project_for_read(&*change, who, &before.project_id).await?;
    let mut active: page::ActiveModel = before.clone().into();
    if let Some(title) = patch.title {
        active.title = Set(required_text("title", &title, 500)?);
    }
    if let Some(body) = patch.body {
        check_body(&body)?;
        active.body = Set(body);
    }
    active.updated_at = Set(ids::now());
    let after = active.update(&*change).await?;
    let project = project_json(&project, &org);
    let (current, previous) = (
        page_json(&after, project.clone()),
        page_json(&before, project),
    );
    change.emit(
        types::PAGE_UPDATED,
        Some(&after.project_id),
        current,
        Some(previous),
    );
    change.commit().await?;
    Ok(after)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, page = id))]
pub async fn delete_page(app: &Ctx, who: &Principal, id: &str) -> AppResult<page::Model> {
    let org = accounts::organization(app, who).await?;
    let mut change = Change::begin(app, who).await?;
    let page = page_for_read(&*change, who, id).await?;
    let project = project_for_read(&*change, who, &page.project_id).await?;
    page.clone().delete(&*change).await?;
    let json = page_json(&page, project_json(&project, &org));
    change.emit(
        types::PAGE_DELETED,
        Some(&page.project_id),
        json.clone(),
        Some(json),
    );
    change.commit().await?;
    Ok(page)
}
