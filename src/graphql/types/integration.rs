use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use entity::integration;

use crate::{domain::integrations, graphql::ContextExt};

/// What an integration's inbound webhooks create in its project.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum IntegrationAction {
    Chat,
    Page,
    Todo,
}

impl IntegrationAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Page => "page",
            Self::Todo => "todo",
        }
    }
}

/// An inbound integration: a third-party service posting into a project
/// at `webhookUrl`.
pub struct Integration(pub integration::Model);

#[Object]
impl Integration {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn project_id(&self) -> ID {
        ID(self.0.project_id.clone())
    }
    /// One of the 28 services (`github`, `jira`, `incoming`, …).
    async fn service(&self) -> &str {
        &self.0.service
    }
    async fn action(&self) -> IntegrationAction {
        match self.0.action.as_str() {
            "page" => IntegrationAction::Page,
            "todo" => IntegrationAction::Todo,
            _ => IntegrationAction::Chat,
        }
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Where the service posts: `PUBLIC_URL/webhooks/<token>`.
    async fn webhook_url(&self, ctx: &Context<'_>) -> String {
        integrations::webhook_url(&ctx.app().settings, &self.0)
    }
    /// Whether signatures are checked (a secret is set).
    async fn verified(&self) -> bool {
        self.0.secret.is_some()
    }
    /// The verification secret (admins only).
    async fn secret(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        ctx.principal()?.require_admin()?;
        Ok(self.0.secret.as_deref())
    }
    async fn created_by_id(&self) -> Option<ID> {
        self.0.created_by_id.clone().map(ID)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}
