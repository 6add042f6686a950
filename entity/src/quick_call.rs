use sea_orm::entity::prelude::*;

/// An ad-hoc web meeting reachable by URL until it expires.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quick_calls")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    /// Sealed (see the server's `secrets`).
    pub token: String,
    /// The token's keyed hash, by which a join finds the call.
    pub token_hash: Option<String>,
    pub password_hash: Option<String>,
    pub expires_at: DateTimeUtc,
    pub created_by_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
