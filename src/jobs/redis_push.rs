//! Queueing into Redis off the caller's path. A change's deliveries are
//! committed to the database (the outbox) before they are queued, so a
//! request has nothing to wait for: its jobs go to one task per process
//! that pushes them in order. While Redis is down or stalled that task
//! retries the batch in hand until Redis answers, and requests answer as
//! fast as with Redis up. What does not fit in the pending buffer is left
//! to the sweeper, which finds every pending delivery in the database.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use apalis::prelude::{TaskBuilder, TaskSink};
use apalis_redis::RedisStorage;
use chrono::Utc;
use tokio::sync::mpsc;

use super::{DeliveryJob, job_id, wake::Wake};
use crate::domain::delivery::queue::Due;

/// Attempts a process holds while Redis does not answer; past them the
/// sweeper queues what the database holds.
const PENDING_CAPACITY: usize = 65_536;

/// The most jobs one push carries (the patched fetch and push scripts
/// handle up to this many per call).
const MAX_BATCH: usize = 1_000;

/// The longest wait between two tries of a batch Redis refused.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub(super) struct RedisPusher {
    pending: mpsc::Sender<Due>,
    /// When the last warning of a full buffer went out, and the attempts
    /// refused since: one goes out at most every [`WARN_EVERY`], however
    /// many requests meet the buffer full.
    refusals: Arc<Mutex<(Option<Instant>, usize)>>,
}

const WARN_EVERY: Duration = Duration::from_secs(10);

impl RedisPusher {
    /// Starts the pushing task. `timeout` bounds one try, however the
    /// connection is doing (its reconnects can take longer than a command).
    pub fn start(
        storage: RedisStorage<DeliveryJob>,
        wake: Wake,
        wake_channel: String,
        timeout: Duration,
    ) -> Self {
        let (pending, queued) = mpsc::channel(PENDING_CAPACITY);
        tokio::spawn(push_forever(queued, storage, wake, wake_channel, timeout));
        Self {
            pending,
            refusals: Arc::default(),
        }
    }

    /// Hands the attempts to the pushing task without waiting for Redis.
    pub fn send(&self, due: &[Due]) {
        let refused = due
            .iter()
            .filter(|due| self.pending.try_send((*due).clone()).is_err())
            .count();
        if refused == 0 {
            return;
        }
        let mut refusals = self.refusals.lock().expect("never poisoned");
        let (warned, since) = &mut *refusals;
        *since += refused;
        if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            tracing::warn!(
                refused = *since,
                "Redis is behind and the queue's buffer is full; the sweeper will queue these deliveries"
            );
            *refusals = (Some(Instant::now()), 0);
        }
    }
}

async fn push_forever(
    mut queued: mpsc::Receiver<Due>,
    mut storage: RedisStorage<DeliveryJob>,
    wake: Wake,
    wake_channel: String,
    timeout: Duration,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queued.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut backoff = Duration::from_millis(100);
        loop {
            let error = match tokio::time::timeout(timeout, push(&mut storage, &batch)).await {
                Ok(Ok(())) => break,
                Ok(Err(error)) => error,
                Err(_) => format!("no answer within {timeout:?}"),
            };
            tracing::warn!(
                %error,
                count = batch.len(),
                waiting = queued.len(),
                "queueing deliveries in Redis failed; trying again"
            );
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        wake.signal();
        publish_wake(&mut storage, &wake_channel);
        batch.clear();
    }
}

/// One job per attempt; Redis keeps one job per id, so a batch tried twice
/// (its first answer lost) still makes one job each.
async fn push(storage: &mut RedisStorage<DeliveryJob>, due: &[Due]) -> Result<(), String> {
    let now = Utc::now();
    let tasks: Vec<_> = due
        .iter()
        .map(|due| {
            let job = DeliveryJob {
                delivery_id: due.delivery_id.clone(),
                handoff: None,
            };
            let task = TaskBuilder::new(job).task_id(job_id(due));
            // A time already past means now: onto the queue itself rather
            // than into the scheduled set.
            match due.at > now {
                true => task.run_at_timestamp(due.at.timestamp().max(0) as u64),
                false => task,
            }
            .build()
        })
        .collect();
    storage
        .push_all(futures_util::stream::iter(tasks))
        .await
        .map_err(|e| e.to_string())
}

/// Wakes the workers of other processes. Best effort and not awaited: a
/// lost wake-up costs at most one idle poll.
fn publish_wake(storage: &mut RedisStorage<DeliveryJob>, channel: &str) {
    let mut conn = storage.get_connection().clone();
    let channel = channel.to_owned();
    tokio::spawn(async move {
        let woken: Result<i64, _> = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(1)
            .query_async(&mut conn)
            .await;
        if let Err(error) = woken {
            tracing::debug!(%error, "waking other workers failed");
        }
    });
}
