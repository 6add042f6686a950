use async_graphql::{ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{conference_room, reservation};

/// A bookable conference room.
pub struct ConferenceRoom(pub conference_room::Model);

#[Object]
impl ConferenceRoom {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn capacity(&self) -> i32 {
        self.0.capacity
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A booking of a conference room over `[startsAt, endsAt)`.
pub struct Reservation(pub reservation::Model);

#[Object]
impl Reservation {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn conference_room_id(&self) -> ID {
        ID(self.0.conference_room_id.clone())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    async fn created_by_id(&self) -> Option<ID> {
        self.0.created_by_id.clone().map(ID)
    }
}

/// An ad-hoc web meeting.
#[derive(SimpleObject)]
pub struct QuickCall {
    pub id: ID,
    /// The meeting URL.
    pub url: String,
    pub has_password: bool,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}
