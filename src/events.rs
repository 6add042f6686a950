//! Workspace events: written in the transaction of the change that caused
//! them, then published to live subscribers once that transaction commits.

use std::sync::Arc;

use entity::event;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::{domain::ids, error::AppResult};

/// Event type names, as they appear in payloads and filters.
pub mod types {
    pub const MEMBER_ADDED: &str = "MEMBER_ADDED";
    pub const MEMBER_ROLE_CHANGED: &str = "MEMBER_ROLE_CHANGED";
    pub const MEMBER_REMOVED: &str = "MEMBER_REMOVED";
}

/// An event about to be recorded.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub organization_id: String,
    pub project_id: Option<String>,
    pub event_type: &'static str,
    pub actor_id: Option<String>,
    pub current_value: Value,
    pub previous_value: Option<Value>,
}

/// Inserts the event row on `conn`, normally the change's own transaction.
pub async fn record(conn: &impl ConnectionTrait, new: NewEvent) -> AppResult<event::Model> {
    let row = event::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(new.organization_id),
        project_id: Set(new.project_id),
        event_type: Set(new.event_type.to_owned()),
        actor_id: Set(new.actor_id),
        current_value: Set(new.current_value),
        previous_value: Set(new.previous_value),
        created_at: Set(ids::now()),
    };
    Ok(row.insert(conn).await?)
}

/// Fans committed events out to the subscriptions of this process.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<event::Model>>,
}

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity);
        Self { sender }
    }

    /// Call only after the transaction holding the events has committed.
    pub fn publish(&self, events: impl IntoIterator<Item = event::Model>) {
        for event in events {
            // No receiver simply means nobody is subscribed right now.
            let _ = self.sender.send(Arc::new(event));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<event::Model>> {
        self.sender.subscribe()
    }
}
