use sea_orm::entity::prelude::*;

/// A todo (Blue's record).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "todos")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub project_id: String,
    pub todo_list_id: String,
    pub title: String,
    pub text: Option<String>,
    pub html: Option<String>,
    pub position: f64,
    pub done: bool,
    pub archived: bool,
    pub started_at: Option<DateTimeUtc>,
    pub dued_at: Option<DateTimeUtc>,
    pub created_by_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
