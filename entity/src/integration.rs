use sea_orm::entity::prelude::*;

/// An inbound integration (BeTalk's shape): a third-party service posting
/// into a project through `PUBLIC_URL/webhooks/<token>`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integrations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub project_id: String,
    /// One of the 28 services, lower case.
    pub service: String,
    /// `chat`, `page` or `todo`: what an inbound webhook creates.
    pub action: String,
    pub description: String,
    /// Verifies the service's signature when set. Sealed.
    pub secret: Option<String>,
    /// The unguessable last segment of the webhook URL. Sealed.
    pub token: String,
    /// The token's keyed hash, by which an inbound request finds it.
    pub token_hash: Option<String>,
    /// The list todos go into, created on first use.
    pub todo_list_id: Option<String>,
    pub created_by_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::project::Entity",
        from = "Column::ProjectId",
        to = "super::project::Column::Id"
    )]
    Project,
}

impl Related<super::project::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Project.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
