use async_graphql::{ID, Json, SimpleObject};
use chrono::{DateTime, Utc};
use entity::event;

/// A change in the workspace.
#[derive(SimpleObject, Clone)]
pub struct Event {
    pub id: ID,
    /// For example `MEMBER_ADDED` or `TODO_CREATED`.
    #[graphql(name = "type")]
    pub event_type: String,
    pub project_id: Option<ID>,
    /// The user who made the change, if a user did.
    pub actor_id: Option<ID>,
    /// The changed object after the change, parents nested.
    pub current_value: Json<serde_json::Value>,
    /// The object before the change, for updates and deletions.
    pub previous_value: Option<Json<serde_json::Value>>,
    pub created_at: DateTime<Utc>,
}

impl From<event::Model> for Event {
    fn from(e: event::Model) -> Self {
        Self {
            id: ID(e.id),
            event_type: e.event_type,
            project_id: e.project_id.map(ID),
            actor_id: e.actor_id.map(ID),
            current_value: Json(e.current_value),
            previous_value: e.previous_value.map(Json),
            created_at: e.created_at,
        }
    }
}
