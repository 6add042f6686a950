use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One change in an organization's workspace, written in the same transaction
/// as the change itself. Subscriptions and outbound webhooks read from here.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub project_id: Option<String>,
    #[sea_orm(column_name = "type")]
    pub event_type: String,
    pub actor_id: Option<String>,
    pub current_value: Json,
    pub previous_value: Option<Json>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
