use async_graphql::{ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::integration_point;

/// An integration point's options, as seed 002 nests them.
#[derive(SimpleObject)]
pub struct IntegrationPointOpts {
    pub title: String,
    pub comment: String,
    pub allow_files_api: bool,
    pub issync: bool,
}

/// Creation and last-write times (`ext.ct`, `ext.lwt`).
#[derive(SimpleObject)]
pub struct IntegrationPointExt {
    pub ct: DateTime<Utc>,
    pub lwt: DateTime<Utc>,
}

/// A two-way channel linked to a project (admins only, like its tokens).
pub struct IntegrationPoint(pub integration_point::Model);

#[Object]
impl IntegrationPoint {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn project_id(&self) -> ID {
        ID(self.0.project_id.clone())
    }
    async fn code(&self) -> &str {
        &self.0.code
    }
    #[graphql(name = "type")]
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// Authenticates messages sent to the channel (`ws_hook`).
    async fn token_local(&self) -> &str {
        &self.0.token_local
    }
    /// Signs what the channel forwards (`send_to_web`) when set.
    async fn token_remote(&self) -> &str {
        &self.0.token_remote
    }
    async fn token_remote2(&self) -> &str {
        &self.0.token_remote2
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    async fn recv_svcscriptcode(&self) -> &str {
        &self.0.recv_svcscriptcode
    }
    async fn recv_svcscriptcode_ws(&self) -> &str {
        &self.0.recv_svcscriptcode_ws
    }
    async fn send_svcscriptcode(&self) -> &str {
        &self.0.send_svcscriptcode
    }
    async fn send_svcscriptcode_ws(&self) -> &str {
        &self.0.send_svcscriptcode_ws
    }
    async fn opts(&self) -> IntegrationPointOpts {
        IntegrationPointOpts {
            title: self.0.opts_title.clone(),
            comment: self.0.opts_comment.clone(),
            allow_files_api: self.0.opts_allow_files_api,
            issync: self.0.opts_issync,
        }
    }
    async fn ext(&self) -> IntegrationPointExt {
        IntegrationPointExt {
            ct: self.0.created_at,
            lwt: self.0.updated_at,
        }
    }
    /// The outbound webhook carrying `send_to_web`, if any.
    async fn webhook_id(&self) -> Option<ID> {
        self.0.webhook_id.clone().map(ID)
    }
}
