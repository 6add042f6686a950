use sea_orm::entity::prelude::*;

/// A two-way channel (seed 002's integration point), linked to a project:
/// `ws_hook` receives messages into it, `send_to_web` forwards its new
/// messages to `url` through an outbound webhook it owns.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integration_points")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub project_id: String,
    pub code: String,
    #[sea_orm(column_name = "type")]
    pub kind: String,
    /// Generated, never changed: authenticates the inbound side. Sealed,
    /// as are the remote tokens.
    pub token_local: String,
    pub token_remote: String,
    pub token_remote2: String,
    pub url: String,
    pub recv_svcscriptcode: String,
    pub recv_svcscriptcode_ws: String,
    pub send_svcscriptcode: String,
    pub send_svcscriptcode_ws: String,
    pub opts_title: String,
    pub opts_comment: String,
    pub opts_allow_files_api: bool,
    pub opts_issync: bool,
    /// The outbound webhook carrying `send_to_web`.
    pub webhook_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// `token_local`'s keyed hash, by which a request finds the channel.
    pub token_local_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
