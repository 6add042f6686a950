//! Jobs: the only code that names apalis. The delivery queue's storages
//! (Redis through apalis-redis when `REDIS_URL` is set, else this process's
//! memory), the domain's [`Queue`] over them, and the workers that take
//! jobs off them (`worker`).
//!
//! A job's id names its delivery and the time it is due for, and a queue
//! holds one job per id: re-queueing a delivery whose job is still waiting
//! (the sweeper, after a long backlog) adds nothing.

mod embedded;
mod redis_push;
mod wake;
pub mod worker;

use std::time::Duration;

use apalis::prelude::TaskId;
use apalis_redis::RedisStorage;
use serde::{Deserialize, Serialize};

use crate::domain::delivery::queue::{Due, HandedOver, Handoff, Queue};
use embedded::Embedded;
use redis_push::RedisPusher;
use wake::Wake;

/// The job: which delivery to attempt. Everything else is read from the
/// database when the attempt starts, so a job is never stale; except, on
/// the embedded queue, what the change that owed the delivery hands over.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub delivery_id: String,
    /// Never in Redis: only a job that stays in this process carries it.
    #[serde(skip)]
    pub handoff: Option<HandedOver>,
}

/// The id of the job for an attempt. Two pushes of the same attempt make
/// one job; the next attempt (a retry, a redelivery) is due at another
/// time and gets a job of its own.
fn job_id(due: &Due) -> TaskId {
    let (id, at) = (&due.delivery_id, due.at.timestamp_micros());
    TaskId::from_string(match due.found_lost {
        0 => format!("{id}@{at}"),
        n => format!("{id}@{at}#{n}"),
    })
}

// One per process, so the Redis variant's size costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum Storage {
    Redis(RedisStorage<DeliveryJob>, RedisPusher),
    Embedded(Embedded),
}

/// The delivery queue, and what its workers need of it.
#[derive(Clone)]
pub struct DeliveryJobs {
    storage: Storage,
    wake: Wake,
    name: String,
    handover_lease: Option<Duration>,
}

/// The queue's name for a key prefix. apalis names its Redis pub/sub
/// channels `tasks:<queue>:…` and splits them on `:`, so the name has none.
pub fn queue_name(prefix: &str) -> String {
    format!("{}deliveries", prefix.replace(':', "_"))
}

fn redis_config(name: &str) -> apalis_redis::Config {
    apalis_redis::Config::default()
        .queue(name)
        .batch_size(64)
        // A dead worker's jobs pass to another after 4 × 5 s = 20 s, longer
        // than an attempt may run (15 s by default), and the delivery's own
        // lease guards the rest.
        .heartbeat_interval(Duration::from_secs(5))
        .missed_heartbeats(4)
        // apalis' task lock only marks a fetched job "Running" in its
        // metadata, with an LREM of the queue list per job: its fetch has
        // already trimmed the job off that list, so each LREM scanned the
        // whole backlog for nothing (233 µs a call, Redis' busiest command
        // in a fan-out). A dead worker's jobs are still found through its
        // in-flight set, and the delivery's own lease guards the attempt.
        .lock_tasks(false)
        // Nothing here listens to apalis' per-job pub/sub announcements;
        // workers are woken on `wake_channel` instead.
        .emit_events(false)
}

impl DeliveryJobs {
    /// A queue in Redis, shared by every process using the same prefix.
    /// `timeout` bounds one try of a push (see [`RedisPusher`]).
    pub fn redis(conn: redis::aio::ConnectionManager, prefix: &str, timeout: Duration) -> Self {
        let name = queue_name(prefix);
        let storage = RedisStorage::new(conn).with_config(redis_config(&name));
        let wake = Wake::default();
        let pusher =
            RedisPusher::start(storage.clone(), wake.clone(), wake_channel(&name), timeout);
        Self {
            storage: Storage::Redis(storage, pusher),
            wake,
            name,
            handover_lease: None,
        }
    }

    /// A queue in this process's memory: for a single `serve` process
    /// with its in-process workers. With `handover_lease`, see
    /// [`Queue::handover_lease`].
    pub fn embedded(prefix: &str, handover_lease: Option<Duration>) -> Self {
        Self {
            storage: Storage::Embedded(Embedded::new()),
            wake: Wake::default(),
            name: queue_name(prefix),
            handover_lease,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The Redis pub/sub channel, one per queue, on which a push wakes the
/// workers of every process.
fn wake_channel(queue: &str) -> String {
    format!("junction:{queue}:wake")
}

#[async_trait::async_trait]
impl Queue for DeliveryJobs {
    fn handover_lease(&self) -> Option<Duration> {
        self.handover_lease
    }

    async fn push_new(&self, owed: Vec<Handoff>) {
        match (&self.storage, self.handover_lease) {
            (Storage::Embedded(queue), Some(_)) => {
                for handoff in owed {
                    let (delivery_id, kept) = handoff.into_job();
                    queue.send(DeliveryJob {
                        delivery_id,
                        handoff: Some(kept),
                    });
                }
            }
            _ => {
                let due: Vec<Due> = owed.iter().filter_map(|h| Due::of(&h.delivery)).collect();
                self.push(&due).await;
            }
        }
    }

    /// Queues one job per due attempt, unless its job is queued already.
    /// Into Redis it goes by the pushing task, without waiting for Redis
    /// (see [`RedisPusher`]).
    async fn push(&self, due: &[Due]) {
        match &self.storage {
            Storage::Redis(_, pusher) => pusher.send(due),
            Storage::Embedded(queue) => due.iter().for_each(|due| {
                let job = DeliveryJob {
                    delivery_id: due.delivery_id.clone(),
                    handoff: None,
                };
                queue.push(job, due.at)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn due(id: &str) -> Due {
        Due::new(id.to_owned(), Utc::now())
    }

    /// The sweeper re-queues deliveries that may still have their job;
    /// those must not become a second job.
    #[tokio::test]
    async fn a_delivery_waiting_in_the_embedded_queue_is_not_queued_again() {
        let queue = DeliveryJobs::embedded("test:", None);
        let Storage::Embedded(embedded) = queue.storage.clone() else {
            unreachable!()
        };
        queue.push(&[due("a"), due("b")]).await;
        queue.push(&[due("a")]).await;
        assert_eq!(embedded.receiver.lock().await.len(), 2);

        // Taken by a worker, it may be queued again (a retry).
        let taken = embedded.take().await.unwrap();
        queue.push(&[due(&taken.delivery_id)]).await;
        assert_eq!(embedded.receiver.lock().await.len(), 2);
    }

    /// In Redis, a job's id is the queue's guard against a second copy: the
    /// same attempt always has the same id, the next attempt another.
    #[test]
    fn a_job_id_names_a_delivery_and_its_time() {
        let first = due("a");
        let again = Due::new("a".into(), first.at);
        let retry = Due::new("a".into(), first.at + chrono::Duration::seconds(5));
        let found_lost = Due {
            found_lost: 1,
            ..again.clone()
        };
        assert_eq!(job_id(&first), job_id(&again));
        assert_ne!(job_id(&first), job_id(&retry));
        assert_ne!(job_id(&first), job_id(&found_lost));
        assert_ne!(job_id(&first), job_id(&due("b")));
    }
}
