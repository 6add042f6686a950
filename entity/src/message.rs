use sea_orm::entity::prelude::*;

/// A chat message, written by a user or by an integration.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub project_id: String,
    pub author_user_id: Option<String>,
    pub author_integration_id: Option<String>,
    pub author_name: Option<String>,
    pub text: String,
    pub mentions: Json,
    pub sealed: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
