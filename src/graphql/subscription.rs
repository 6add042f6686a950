use std::sync::Arc;

use async_graphql::{Context, ID, Subscription as SubscriptionDerive};
use entity::event;
use futures_util::{Stream, StreamExt, stream};
use tokio::sync::broadcast::{Receiver, error::RecvError};

use super::{
    ContextExt,
    types::{Event, Message},
};
use crate::{
    domain::{event_log::EventFilter, messages, projects},
    events::types,
};

#[derive(Default)]
pub struct Subscription;

/// The bus as a stream of the events `filter` lets through for `organization_id`.
fn matching(
    receiver: Receiver<Arc<event::Model>>,
    organization_id: String,
    filter: EventFilter,
) -> impl Stream<Item = Arc<event::Model>> + Send + 'static {
    stream::unfold(
        (receiver, organization_id, filter),
        |(mut receiver, org, filter)| async move {
            loop {
                match receiver.recv().await {
                    Ok(event) if filter.matches(&org, &event) => {
                        return Some((event, (receiver, org, filter)));
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "subscriber fell behind; events skipped")
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    )
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
            Some(project.id),
        );
        let events = matching(app.events.subscribe(), who.organization_id.clone(), filter);
        Ok(events.filter_map(move |event| {
            let (app, who) = (app.clone(), who.clone());
            async move {
                let id = event.current_value.get("id")?.as_str()?.to_owned();
                // Re-read so the subscriber gets the stored message, and only
                // while they may still see the project.
                messages::message_for_read(&app, &who, &id)
                    .await
                    .ok()
                    .map(Message)
            }
        }))
    }
}
