use std::{sync::Arc, time::Duration};

use futures_util::StreamExt;
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::broadcast;

/// Fans committed records (events, delivery updates) out to live
/// subscriptions. With Redis, every process publishes to one channel and
/// each process's own listener delivers locally, so a subscriber on one
/// server sees changes made on another (or by a separate worker).
pub struct Bus<T> {
    local: broadcast::Sender<Arc<T>>,
    redis: Option<RedisFanout>,
}

/// Workspace events, for the `events` and `messageAdded` subscriptions.
pub type EventBus = Bus<entity::event::Model>;
/// Delivery state changes, for the `deliveryUpdated` subscription.
pub type DeliveryBus = Bus<entity::delivery::Model>;

impl<T> Clone for Bus<T> {
    fn clone(&self) -> Self {
        Self {
            local: self.local.clone(),
            redis: self.redis.clone(),
        }
    }
}

#[derive(Clone)]
struct RedisFanout {
    publisher: redis::aio::ConnectionManager,
    channel: String,
}

impl<T> Bus<T>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
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
        let forward = local.clone();
        tokio::spawn(listen_forever(client, channel.clone(), move |payload| {
            // Every process hears every record, but only one with a live
            // subscription needs it parsed: a `junction worker` never has
            // one, and in a fan-out each delivery's update arrived here for
            // nobody.
            if forward.receiver_count() == 0 {
                return;
            }
            match serde_json::from_slice::<T>(&payload) {
                Ok(item) => {
                    let _ = forward.send(Arc::new(item));
                }
                Err(e) => tracing::warn!(error = %e, "malformed message on pub/sub"),
            }
        }));
        Self {
            local,
            redis: Some(RedisFanout { publisher, channel }),
        }
    }

    /// Call only after the transaction holding the records has committed.
    /// They are already stored, so a failed publish only costs live
    /// subscribers a notification (they can re-read the log).
    pub async fn publish(&self, items: &[T]) {
        for item in items {
            match &self.redis {
                None => {
                    // No receiver simply means nobody is subscribed right
                    // now: the record need not even be copied.
                    if self.local.receiver_count() > 0 {
                        let _ = self.local.send(Arc::new(item.clone()));
                    }
                }
                Some(fanout) => {
                    let payload = serde_json::to_vec(item).expect("bus messages serialize");
                    let mut conn = fanout.publisher.clone();
                    let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                        .arg(&fanout.channel)
                        .arg(payload)
                        .query_async(&mut conn)
                        .await;
                    if let Err(e) = sent {
                        tracing::warn!(error = %e, "publishing to Redis failed; delivering locally only");
                        let _ = self.local.send(Arc::new(item.clone()));
                    }
                }
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<T>> {
        self.local.subscribe()
    }
}

/// Calls `on_message` with every payload published on `channel`,
/// reconnecting whenever the connection drops. Runs until the process ends.
pub async fn listen_forever(
    client: redis::Client,
    channel: String,
    mut on_message: impl FnMut(Vec<u8>) + Send,
) {
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        match message.get_payload::<Vec<u8>>() {
                            Ok(payload) => on_message(payload),
                            Err(e) => tracing::warn!(error = %e, "unreadable pub/sub message"),
                        }
                    }
                    tracing::warn!(%channel, "Redis pub/sub connection closed; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "subscribing to Redis failed"),
            },
            Err(e) => tracing::warn!(error = %e, "connecting to Redis pub/sub failed"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
