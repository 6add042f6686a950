use std::ops::Deref;

use entity::{delivery, event, webhook};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};
use serde_json::Value;

use crate::{
    auth::Principal,
    db::Txn,
    domain::Ctx,
    domain::delivery::queue::Due,
    domain::{ids, outbox},
    error::AppResult,
};

/// One change to the workspace: a database transaction plus the events it
/// records. Nothing is visible, and nothing is published, until `commit`.
pub struct Change<'a> {
    app: &'a Ctx,
    txn: Txn,
    organization_id: String,
    actor_id: Option<String>,
    recorded: Vec<event::Model>,
    /// Deliveries written directly (tests, redeliveries) rather than by the
    /// outbox's matching; queued with the rest after commit.
    deliveries: Vec<Due>,
}

impl<'a> Change<'a> {
    /// A change made by `who` in their organization.
    pub async fn begin(app: &'a Ctx, who: &Principal) -> AppResult<Self> {
        Self::begin_for(app, &who.organization_id, Some(who.user_id.clone())).await
    }

    /// A change in `organization_id` made by a user or, with no actor, by
    /// the system or an integration.
    pub async fn begin_for(
        app: &'a Ctx,
        organization_id: &str,
        actor_id: Option<String>,
    ) -> AppResult<Self> {
        Ok(Self {
            app,
            txn: app.db.begin().await?,
            organization_id: organization_id.to_owned(),
            actor_id,
            recorded: Vec::new(),
            deliveries: Vec::new(),
        })
    }

    /// Records an event in this change; on commit it is written, published
    /// and delivered to every webhook that wants it. Its row is written at
    /// commit, together with the deliveries it owes (see
    /// [`outbox::record_events`]): on PostgreSQL that is one statement for
    /// both rather than one each.
    pub fn emit(
        &mut self,
        event_type: &'static str,
        project_id: Option<&str>,
        current_value: Value,
        previous_value: Option<Value>,
    ) {
        let event = self.event(event_type, project_id, current_value, previous_value);
        self.recorded.push(event);
    }

    /// Writes an event row that is neither published nor matched against
    /// webhooks (a webhook test ping goes to one webhook only, see
    /// [`Change::deliver`]).
    pub async fn record(
        &self,
        event_type: &'static str,
        project_id: Option<&str>,
        current_value: Value,
        previous_value: Option<Value>,
    ) -> AppResult<event::Model> {
        let event = self.event(event_type, project_id, current_value, previous_value);
        // Inserted as written rather than read back: reading it back would
        // parse its JSON again.
        event::Entity::insert(event.clone().into_active_model())
            .exec_without_returning(&self.txn)
            .await?;
        Ok(event)
    }

    /// An event of this change's organization and actor, made now.
    fn event(
        &self,
        event_type: &'static str,
        project_id: Option<&str>,
        current_value: Value,
        previous_value: Option<Value>,
    ) -> event::Model {
        event::Model {
            id: ids::new_id(),
            organization_id: self.organization_id.clone(),
            project_id: project_id.map(str::to_owned),
            event_type: event_type.to_owned(),
            actor_id: self.actor_id.clone(),
            current_value,
            previous_value,
            created_at: ids::now(),
        }
    }

    /// Owes `event` to `webhook` whatever its filters say.
    pub async fn deliver(
        &mut self,
        webhook: &webhook::Model,
        event: &event::Model,
    ) -> AppResult<delivery::Model> {
        let row = outbox::new_delivery(&webhook.id, &webhook.organization_id, event, None)
            .into_active_model()
            .insert(&self.txn)
            .await?;
        self.deliveries.extend(Due::of(&row));
        Ok(row)
    }

    /// Queues (after commit) deliveries this change reset by hand.
    pub fn requeue<'d>(&mut self, deliveries: impl IntoIterator<Item = &'d delivery::Model>) {
        self.deliveries
            .extend(deliveries.into_iter().filter_map(Due::of));
    }

    /// Writes the events and the deliveries they owe to webhooks (the
    /// outbox), commits all of it at once, then queues the deliveries and
    /// publishes the events.
    pub async fn commit(self) -> AppResult<Vec<event::Model>> {
        let leased_until = self
            .app
            .queue
            .handover_lease()
            .map(|lease| ids::now() + ids::span(lease));
        let owed = outbox::record_events(
            &self.app.caches,
            &self.txn,
            &self.organization_id,
            &self.recorded,
            leased_until,
        )
        .await?;
        let Self {
            app,
            txn,
            recorded,
            deliveries,
            ..
        } = self;
        // Committing releases SQLite's writer slot: the next writer need
        // not wait for this one's queueing and publishing (round trips to
        // Redis when it is configured).
        txn.commit().await?;
        app.queue.push_new(owed).await;
        app.queue.push(&deliveries).await;
        app.events.publish(&recorded).await;
        Ok(recorded)
    }
}

impl Change<'_> {
    /// The context the change was begun in.
    pub fn ctx(&self) -> &Ctx {
        self.app
    }
}

impl Deref for Change<'_> {
    type Target = Txn;
    fn deref(&self) -> &Self::Target {
        &self.txn
    }
}

/// Runs `work` (given a clone of `app`) where writes run best: on SQLite on
/// the writer's own thread, so that the answer to each statement of a
/// change holding the one writer slot is taken up at once, not after the
/// other requests an HTTP worker thread has queued (see
/// [`crate::db::Db::on_writer`]). The write paths that carry load (todos,
/// messages, inbound webhooks) run their changes through it.
pub async fn on_writer<T, F>(app: &Ctx, work: impl FnOnce(Ctx) -> F) -> T
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let db = app.db.clone();
    db.on_writer(work(app.clone())).await
}
