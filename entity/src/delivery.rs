use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One event owed to one webhook: the outbox row, written in the same
/// transaction as the change. Its id is the `webhook-id` receivers see on
/// every attempt, so they can de-duplicate.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    /// `PENDING`, `SUCCEEDED` or `FAILED`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTimeUtc>,
    /// While set and in the future, one worker holds this delivery (its
    /// attempt is in flight); nobody else may start one.
    pub locked_until: Option<DateTimeUtc>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
