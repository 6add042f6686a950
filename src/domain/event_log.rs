//! Reading the event log of an organization.

use entity::event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::pagination::{Direction, Page, PageRequest, fetch_page};
use crate::{auth::Principal, domain::Ctx, error::AppResult};

/// Which events a reader wants; empty lists mean all.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub types: Vec<String>,
    pub project_id: Option<String>,
}

impl EventFilter {
    pub fn new(types: Option<Vec<String>>, project_id: Option<String>) -> Self {
        Self {
            types: types.unwrap_or_default(),
            project_id,
        }
    }

    /// The same test the database query applies, for live streams.
    pub fn matches(&self, organization_id: &str, e: &event::Model) -> bool {
        e.organization_id == organization_id
            && (self.types.is_empty() || self.types.contains(&e.event_type))
            && self
                .project_id
                .as_ref()
                .is_none_or(|p| e.project_id.as_ref() == Some(p))
    }
}

/// The organization's events, newest first.
pub async fn list_events(
    app: &Ctx,
    who: &Principal,
    filter: &EventFilter,
    page: &PageRequest,
) -> AppResult<Page<event::Model>> {
    let mut select =
        event::Entity::find().filter(event::Column::OrganizationId.eq(&who.organization_id));
    if !filter.types.is_empty() {
        select = select.filter(event::Column::EventType.is_in(filter.types.clone()));
    }
    if let Some(project_id) = &filter.project_id {
        select = select.filter(event::Column::ProjectId.eq(project_id));
    }
    fetch_page(
        &app.db,
        select,
        event::Column::Id,
        Direction::Descending,
        page,
    )
    .await
}
