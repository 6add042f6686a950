//! The transactional outbox: the deliveries a change owes, written in the
//! change's own transaction so an event and its deliveries exist together
//! or not at all. Workers send them; this module only records them.

use entity::{delivery, event, webhook};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{
    ids,
    pagination::{Direction, Page, PageRequest, fetch_page},
    webhooks::webhook_for_admin,
};
use crate::{auth::Principal, error::AppResult, state::AppState};

pub const PENDING: &str = "PENDING";
pub const SUCCEEDED: &str = "SUCCEEDED";
pub const FAILED: &str = "FAILED";

fn listed(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// Whether `webhook` wants `event`: enabled, and its event-type and project
/// filters (empty = all) let it through. An event outside any project only
/// reaches webhooks without a project filter.
pub fn webhook_matches(webhook: &webhook::Model, event: &event::Model) -> bool {
    let (events, projects) = (listed(&webhook.events), listed(&webhook.project_ids));
    webhook.enabled
        && (events.is_empty() || events.contains(&event.event_type))
        && (projects.is_empty()
            || event
                .project_id
                .as_ref()
                .is_some_and(|p| projects.contains(p)))
}

/// Records one pending delivery per matching webhook and event, on `conn`.
pub async fn enqueue_deliveries(
    conn: &impl ConnectionTrait,
    organization_id: &str,
    events: &[event::Model],
) -> AppResult<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let webhooks = webhook::Entity::find()
        .filter(webhook::Column::OrganizationId.eq(organization_id))
        .filter(webhook::Column::Enabled.eq(true))
        .all(conn)
        .await?;
    let now = ids::now();
    let rows: Vec<delivery::ActiveModel> = events
        .iter()
        .flat_map(|event| {
            webhooks
                .iter()
                .filter(|w| webhook_matches(w, event))
                .map(move |w| (w, event))
        })
        .map(|(webhook, event)| delivery::ActiveModel {
            id: Set(ids::new_id()),
            organization_id: Set(organization_id.to_owned()),
            webhook_id: Set(webhook.id.clone()),
            event_id: Set(event.id.clone()),
            event_type: Set(event.event_type.clone()),
            status: Set(PENDING.to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(Some(now)),
            last_status_code: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    let count = rows.len();
    if count > 0 {
        delivery::Entity::insert_many(rows).exec(conn).await?;
    }
    Ok(count)
}

/// A webhook's deliveries, newest first, optionally of one status (admins).
pub async fn list_deliveries(
    app: &AppState,
    who: &Principal,
    webhook_id: &str,
    status: Option<&str>,
    page: &PageRequest,
) -> AppResult<Page<delivery::Model>> {
    let webhook = webhook_for_admin(&app.db, who, webhook_id).await?;
    let mut select = delivery::Entity::find().filter(delivery::Column::WebhookId.eq(&webhook.id));
    if let Some(status) = status {
        select = select.filter(delivery::Column::Status.eq(status));
    }
    fetch_page(
        &app.db,
        select,
        delivery::Column::Id,
        Direction::Descending,
        page,
    )
    .await
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;

    fn hook(
        enabled: bool,
        events: serde_json::Value,
        projects: serde_json::Value,
    ) -> webhook::Model {
        webhook::Model {
            id: "w".into(),
            uid: "u".into(),
            organization_id: "o".into(),
            name: "n".into(),
            url: "https://example.com".into(),
            secret: "s".into(),
            status: "HEALTHY".into(),
            enabled,
            events,
            project_ids: projects,
            created_by_id: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn event(event_type: &str, project: Option<&str>) -> event::Model {
        event::Model {
            id: "e".into(),
            organization_id: "o".into(),
            project_id: project.map(str::to_owned),
            event_type: event_type.into(),
            actor_id: None,
            current_value: json!({}),
            previous_value: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn empty_filters_mean_all_and_disabled_means_none() {
        assert!(webhook_matches(
            &hook(true, json!([]), json!([])),
            &event("TODO_CREATED", Some("p"))
        ));
        assert!(webhook_matches(
            &hook(true, json!([]), json!([])),
            &event("MEMBER_ADDED", None)
        ));
        assert!(!webhook_matches(
            &hook(false, json!([]), json!([])),
            &event("TODO_CREATED", Some("p"))
        ));
    }

    #[test]
    fn event_and_project_filters_both_apply() {
        let w = hook(true, json!(["TODO_CREATED"]), json!(["p"]));
        assert!(webhook_matches(&w, &event("TODO_CREATED", Some("p"))));
        assert!(!webhook_matches(&w, &event("TODO_DELETED", Some("p"))));
        assert!(!webhook_matches(&w, &event("TODO_CREATED", Some("q"))));
        assert!(!webhook_matches(&w, &event("TODO_CREATED", None)));
    }
}
