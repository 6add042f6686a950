use std::{sync::Arc, time::Duration};

use futures_util::StreamExt;
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::{broadcast, mpsc};

/// Fans committed records (events, delivery updates) out to live
/// subscriptions. With Redis, every process publishes to one channel and
/// each process's own listener delivers locally, so a subscriber on one
/// server sees changes made on another (or by a separate worker).
pub struct Bus<T> {
    local: broadcast::Sender<Arc<T>>,
    redis: Option<Outgoing<T>>,
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

/// Records on their way to Redis, in order, sent by one task (see
/// [`send_batches`]).
type Outgoing<T> = mpsc::Sender<Arc<T>>;

/// Records a process may hold back while Redis is slow before it delivers
/// new ones locally only.
const OUTGOING_CAPACITY: usize = 65_536;

/// The most records one message carries.
const MAX_BATCH: usize = 256;

impl<T> Bus<T>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    /// An in-process bus.
    pub fn local(capacity: usize) -> Self {
        let (local, _) = broadcast::channel(capacity);
        Self { local, redis: None }
    }

    /// A bus shared through Redis pub/sub on `channel`; starts the listener
    /// and the publisher.
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
            match decode::<T>(&payload) {
                Ok(items) => {
                    for item in items {
                        let _ = forward.send(Arc::new(item));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "malformed message on pub/sub"),
            }
        }));
        let (outgoing, pending) = mpsc::channel(OUTGOING_CAPACITY);
        tokio::spawn(send_batches(pending, publisher, channel, local.clone()));
        Self {
            local,
            redis: Some(outgoing),
        }
    }

    /// Call only after the transaction holding the records has committed.
    /// They are already stored, so a failed publish only costs live
    /// subscribers a notification (they can re-read the log).
    pub async fn publish(&self, items: &[T]) {
        for item in items {
            match &self.redis {
                // No receiver simply means nobody is subscribed right now:
                // the record need not even be copied.
                None if self.local.receiver_count() == 0 => {}
                None => {
                    let _ = self.local.send(Arc::new(item.clone()));
                }
                Some(outgoing) => {
                    if let Err(e) = outgoing.try_send(Arc::new(item.clone())) {
                        tracing::warn!(error = %e, "Redis is behind; delivering locally only");
                        // The record the queue refused, not another copy.
                        let _ = self.local.send(e.into_inner());
                    }
                }
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<T>> {
        self.local.subscribe()
    }
}

/// A message's records: a JSON array of them, or (as processes before
/// batching sent) one record alone.
fn decode<T: DeserializeOwned>(payload: &[u8]) -> serde_json::Result<Vec<T>> {
    match payload.first() {
        Some(b'[') => serde_json::from_slice(payload),
        _ => serde_json::from_slice(payload).map(|item| vec![item]),
    }
}

/// Publishes what [`Bus::publish`] queued, in order: whatever has queued
/// up while the last message was in flight goes as one message (a JSON
/// array of up to [`MAX_BATCH`] records). In a fan-out every settled
/// delivery is a record; one `PUBLISH` each made most of the commands Redis
/// ran, and each reached every process's listener.
async fn send_batches<T: Serialize>(
    mut pending: mpsc::Receiver<Arc<T>>,
    mut conn: redis::aio::ConnectionManager,
    channel: String,
    local: broadcast::Sender<Arc<T>>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let payload = serde_json::to_vec(&batch).expect("bus messages serialize");
        let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(&channel)
            .arg(payload)
            .query_async(&mut conn)
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "publishing to Redis failed; delivering locally only");
            for item in batch.drain(..) {
                let _ = local.send(item);
            }
        }
        batch.clear();
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

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn a_message_holds_a_batch_of_records_or_one_record_alone() {
        let batch: Vec<serde_json::Value> = decode(br#"[{"id":"a"},{"id":"b"}]"#).unwrap();
        assert_eq!(batch.len(), 2);
        assert_eq!(batch[1]["id"], "b");
        // As processes before batching sent them, during a rolling upgrade.
        let alone: Vec<serde_json::Value> = decode(br#"{"id":"a"}"#).unwrap();
        assert_eq!(alone.len(), 1);
        assert_eq!(alone[0]["id"], "a");
        assert!(decode::<serde_json::Value>(b"[{").is_err());
    }
}
