use async_graphql::{Context, ID, Subscription as SubscriptionDerive};
use futures_util::{Stream, stream};
use tokio::sync::broadcast::error::RecvError;

use super::{ContextExt, types::Event};
use crate::domain::event_log::EventFilter;

#[derive(Default)]
pub struct Subscription;

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
        let who = ctx.principal()?.clone();
        let filter = EventFilter::new(types, project_id.map(|p| p.0));
        let receiver = ctx.app().events.subscribe();
        Ok(stream::unfold(receiver, move |mut receiver| {
            let (filter, org) = (filter.clone(), who.organization_id.clone());
            async move {
                loop {
                    match receiver.recv().await {
                        Ok(event) if filter.matches(&org, &event) => {
                            return Some((Event::from((*event).clone()), receiver));
                        }
                        Ok(_) => continue,
                        Err(RecvError::Lagged(missed)) => {
                            tracing::warn!(missed, "subscriber fell behind; events skipped");
                        }
                        Err(RecvError::Closed) => return None,
                    }
                }
            }
        }))
    }
}
