use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_graphql::{Context, ID, Subscription as SubscriptionDerive};
use entity::event;
use futures_util::{Stream, StreamExt, stream};
use tokio::sync::broadcast::{Receiver, error::RecvError};

use super::{
    ContextExt,
    types::{Delivery, Event, Message},
};
use crate::{
    domain::{event_log::EventFilter, messages, projects, webhooks},
    events::types,
};

/// How often a live message stream re-checks that its subscriber may
/// still see the project.
const RECHECK: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct Subscription;

/// A bus as a stream of the items `keep` lets through.
fn filtered<T: Send + Sync + 'static>(
    receiver: Receiver<Arc<T>>,
    keep: impl Fn(&T) -> bool + Send + 'static,
) -> impl Stream<Item = Arc<T>> + Send + 'static {
    stream::unfold((receiver, keep), |(mut receiver, keep)| async move {
        loop {
            match receiver.recv().await {
                Ok(item) if keep(&item) => return Some((item, (receiver, keep))),
                Ok(_) => continue,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "subscriber fell behind; updates skipped")
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

/// The events `filter` lets through for `organization_id`.
fn matching(
    receiver: Receiver<Arc<event::Model>>,
    organization_id: String,
    filter: EventFilter,
) -> impl Stream<Item = Arc<event::Model>> + Send + 'static {
    filtered(receiver, move |event| {
        filter.matches(&organization_id, event)
    })
}

#[SubscriptionDerive]
impl Subscription {
    /// Workspace events of the caller's organization as they happen,
    /// optionally only some types or one project.
    async fn events(
        &self,
        ctx: &Context<'_>,
        types: Option<Vec<String>>,
        project_id: Option<ID>,
    ) -> Result<impl Stream<Item = Event> + use<>, async_graphql::Error> {
        let who = ctx.principal()?;
        if let Some(project_id) = &project_id {
            projects::project_for_read(&ctx.app().db, who, project_id).await?;
        }
        let filter = EventFilter::new(types, project_id.map(|p| p.0));
        let events = matching(
            ctx.app().events.subscribe(),
            who.organization_id.clone(),
            filter,
        );
        Ok(events.map(|event| Event::from((*event).clone())))
    }

    /// A webhook's deliveries as they change: each attempt's outcome,
    /// redeliveries (admins).
    async fn delivery_updated(
        &self,
        ctx: &Context<'_>,
        webhook_id: ID,
    ) -> Result<impl Stream<Item = Delivery> + use<>, async_graphql::Error> {
        let app = ctx.app();
        let webhook = webhooks::webhook_for_admin(&app.db, ctx.principal()?, &webhook_id).await?;
        let updates = filtered(app.deliveries.subscribe(), move |d| {
            d.webhook_id == webhook.id
        });
        Ok(updates.map(|delivery| Delivery((*delivery).clone())))
    }

    /// New chat messages of one project.
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
    ) -> Result<impl Stream<Item = Message> + use<>, async_graphql::Error> {
        let who = ctx.principal()?.clone();
        let app = ctx.app().clone();
        let project = projects::project_for_read(&app.db, &who, &project_id).await?;
        let filter = EventFilter::new(
            Some(vec![types::MESSAGE_CREATED.to_owned()]),
            Some(project.id.clone()),
        );
        let events = matching(app.events.subscribe(), who.organization_id.clone(), filter);
        // Messages come from the events themselves; whether the subscriber
        // may still see the project is checked again at most every
        // RECHECK, not once per message (a busy room would queue a read per
        // message and fall seconds behind).
        let checked = Arc::new(std::sync::Mutex::new(Instant::now()));
        let project_id = project.id.clone();
        Ok(events.filter_map(move |event| {
            let (app, who, checked, project_id) = (
                app.clone(),
                who.clone(),
                checked.clone(),
                project_id.clone(),
            );
            async move {
                let message = messages::message_from_event(&event)?;
                let due = checked.lock().ok()?.elapsed() >= RECHECK;
                if due {
                    projects::project_for_read(&app.db, &who, &project_id)
                        .await
                        .ok()?;
                    *checked.lock().ok()? = Instant::now();
                }
                Some(Message(message))
            }
        }))
    }
}
