use std::ops::Deref;

use entity::event;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseTransaction};
use serde_json::Value;

use crate::{
    auth::Principal,
    domain::{ids, outbox},
    error::AppResult,
    state::{AppState, WriteTxn},
};

/// One change to the workspace: a database transaction plus the events it
/// records. Nothing is visible, and nothing is published, until `commit`.
pub struct Change<'a> {
    app: &'a AppState,
    txn: WriteTxn,
    organization_id: String,
    actor_id: Option<String>,
    recorded: Vec<event::Model>,
}

impl<'a> Change<'a> {
    /// A change made by `who` in their organization.
    pub async fn begin(app: &'a AppState, who: &Principal) -> AppResult<Self> {
        Self::begin_for(app, &who.organization_id, Some(who.user_id.clone())).await
    }

    /// A change in `organization_id` made by a user or, with no actor, by
    /// the system or an integration.
    pub async fn begin_for(
        app: &'a AppState,
        organization_id: &str,
        actor_id: Option<String>,
    ) -> AppResult<Self> {
        Ok(Self {
            app,
            txn: app.begin_write().await?,
            organization_id: organization_id.to_owned(),
            actor_id,
            recorded: Vec::new(),
        })
    }

    /// Records an event in this transaction.
    pub async fn emit(
        &mut self,
        event_type: &'static str,
        project_id: Option<&str>,
        current_value: Value,
        previous_value: Option<Value>,
    ) -> AppResult<()> {
        let row = event::ActiveModel {
            id: Set(ids::new_id()),
            organization_id: Set(self.organization_id.clone()),
            project_id: Set(project_id.map(str::to_owned)),
            event_type: Set(event_type.to_owned()),
            actor_id: Set(self.actor_id.clone()),
            current_value: Set(current_value),
            previous_value: Set(previous_value),
            created_at: Set(ids::now()),
        }
        .insert(&self.txn.txn)
        .await?;
        self.recorded.push(row);
        Ok(())
    }

    /// Records the deliveries the events owe to webhooks (the outbox),
    /// commits all of it at once, then publishes the events.
    pub async fn commit(self) -> AppResult<Vec<event::Model>> {
        outbox::enqueue_deliveries(&self.txn.txn, &self.organization_id, &self.recorded).await?;
        self.txn.txn.commit().await?;
        self.app.events.publish(&self.recorded).await;
        Ok(self.recorded)
    }
}

impl Deref for Change<'_> {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &Self::Target {
        &self.txn.txn
    }
}
