use sea_orm::entity::prelude::*;

/// A project: BeTalk's binder, Chat&Messenger's chat room. `kind` is `room`, or
/// `direct` for a messenger conversation between its members.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub kind: String,
    pub name: String,
    pub description: String,
    pub archived: bool,
    pub is_public: bool,
    pub is_message_thread: bool,
    pub created_by_id: Option<String>,
    pub admin_user_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
