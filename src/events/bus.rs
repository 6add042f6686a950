use std::{sync::Arc, time::Duration};

use entity::event;
use futures_util::StreamExt;
use tokio::sync::broadcast;

/// Fans committed events out to live subscriptions. With Redis, every
/// process publishes to one channel and each process's own listener delivers
/// locally, so a subscriber on one server sees changes made on another.
#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<Arc<event::Model>>,
    redis: Option<RedisFanout>,
}

#[derive(Clone)]
struct RedisFanout {
    publisher: redis::aio::ConnectionManager,
    channel: String,
}

impl EventBus {
    /// An in-process bus.
    pub fn local(capacity: usize) -> Self {
        let (local, _) = broadcast::channel(capacity);
        Self { local, redis: None }
    }

    /// A bus shared through Redis pub/sub on `channel`; starts the listener.
    pub fn redis(
        capacity: usize,
        client: redis::Client,
        publisher: redis::aio::ConnectionManager,
        channel: String,
    ) -> Self {
        let (local, _) = broadcast::channel(capacity);
        tokio::spawn(listen(client, channel.clone(), local.clone()));
        Self {
            local,
            redis: Some(RedisFanout { publisher, channel }),
        }
    }

    /// Call only after the transaction holding the events has committed.
    /// Events are already stored, so a failed publish only costs live
    /// subscribers a notification (they can re-read the event log).
    pub async fn publish(&self, events: &[event::Model]) {
        for event in events {
            match &self.redis {
                None => {
                    // No receiver simply means nobody is subscribed right now.
                    let _ = self.local.send(Arc::new(event.clone()));
                }
                Some(fanout) => {
                    let payload = serde_json::to_string(event).expect("events serialize");
                    let mut conn = fanout.publisher.clone();
                    let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                        .arg(&fanout.channel)
                        .arg(payload)
                        .query_async(&mut conn)
                        .await;
                    if let Err(e) = sent {
                        tracing::warn!(error = %e, "publishing to Redis failed; delivering locally only");
                        let _ = self.local.send(Arc::new(event.clone()));
                    }
                }
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<event::Model>> {
        self.local.subscribe()
    }
}

/// Forwards the Redis channel into the local broadcast, reconnecting
/// whenever the connection drops.
async fn listen(
    client: redis::Client,
    channel: String,
    local: broadcast::Sender<Arc<event::Model>>,
) {
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let payload: Vec<u8> = match message.get_payload() {
                            Ok(p) => p,
                            Err(e) => {
                                tracing::warn!(error = %e, "unreadable pub/sub message");
                                continue;
                            }
                        };
                        match serde_json::from_slice::<event::Model>(&payload) {
                            Ok(event) => {
                                let _ = local.send(Arc::new(event));
                            }
                            Err(e) => tracing::warn!(error = %e, "malformed event on pub/sub"),
                        }
                    }
                    tracing::warn!("Redis pub/sub connection closed; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "subscribing to Redis failed"),
            },
            Err(e) => tracing::warn!(error = %e, "connecting to Redis pub/sub failed"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
