use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{message, page};

use super::User;
use crate::graphql::{ContextExt, loaders::loader_error};

/// A chat message.
pub struct Message(pub message::Model);

/// Who read a sealed message, and when.
#[derive(SimpleObject)]
pub struct ReadReceipt {
    pub user_id: ID,
    pub read_at: DateTime<Utc>,
}

#[Object]
impl Message {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn project_id(&self) -> ID {
        ID(self.0.project_id.clone())
    }
    async fn text(&self) -> &str {
        &self.0.text
    }
    /// Sealed messages collect read receipts.
    async fn sealed(&self) -> bool {
        self.0.sealed
    }
    /// Ids of the users the message mentions.
    async fn mentions(&self) -> Vec<ID> {
        serde_json::from_value::<Vec<String>>(self.0.mentions.clone())
            .unwrap_or_default()
            .into_iter()
            .map(ID)
            .collect()
    }
    /// The user who wrote it, unless an integration did.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(id) = &self.0.author_user_id else {
            return Ok(None);
        };
        Ok(ctx
            .loaders()
            .users
            .load_one(id.clone())
            .await
            .map_err(loader_error)?
            .map(User::from))
    }
    /// The integration that posted it, if one did.
    async fn author_integration_id(&self) -> Option<ID> {
        self.0.author_integration_id.clone().map(ID)
    }
    /// The display name an integration posted under.
    async fn author_name(&self) -> Option<&str> {
        self.0.author_name.as_deref()
    }
    async fn read_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ReadReceipt>> {
        let reads = ctx
            .loaders()
            .readers
            .load_one(self.0.id.clone())
            .await
            .map_err(loader_error)?;
        Ok(reads
            .unwrap_or_default()
            .into_iter()
            .map(|r| ReadReceipt {
                user_id: ID(r.user_id),
                read_at: r.read_at,
            })
            .collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A page of a project.
pub struct Page(pub page::Model);

#[Object]
impl Page {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn project_id(&self) -> ID {
        ID(self.0.project_id.clone())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn body(&self) -> &str {
        &self.0.body
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
