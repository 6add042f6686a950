use sea_orm::entity::prelude::*;

/// An outbound webhook (Blue's shape): where an organization's events go.
/// Empty `events` or `project_ids` mean all.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub uid: String,
    pub organization_id: String,
    pub name: String,
    pub url: String,
    pub secret: String,
    /// `HEALTHY` or `UNHEALTHY`.
    pub status: String,
    pub enabled: bool,
    pub events: Json,
    pub project_ids: Json,
    pub created_by_id: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    /// When the current run of failures began.
    pub failing_since: Option<DateTimeUtc>,
    /// The secret before the last rotation, still signed with until
    /// `previous_secret_expires_at`.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTimeUtc>,
    /// Set when an integration point owns this webhook (`send_to_web`);
    /// messages that channel posted itself are not sent back to it.
    pub channel_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
