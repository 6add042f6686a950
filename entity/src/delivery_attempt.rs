use sea_orm::entity::prelude::*;

/// One HTTP attempt at a delivery, as the receiver answered it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "delivery_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub delivery_id: String,
    pub webhook_id: String,
    /// 1 for the first try.
    pub attempt: i32,
    /// None when no response came (timeout, refused connection, …).
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub response_excerpt: String,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
