//! The delivery queue: one apalis job per delivery attempt, in Redis
//! (apalis-redis) when `REDIS_URL` is set, else in this process's memory
//! (apalis' channel-backed `MemoryStorage`). The database's outbox rows stay
//! the truth: a job only says "look at delivery X now", so a lost job costs
//! latency (the sweeper re-queues it), never a delivery.
//!
//! A job's id names its delivery and the time it is due for
//! ([`Due::job_id`]), and a queue holds one job per id: re-queueing a
//! delivery whose job is still waiting (the sweeper, after a long backlog)
//! adds nothing.
//!
//! apalis-redis polls. Every push therefore also wakes the workers
//! directly: in this process through [`Wake`], in other processes through
//! a Redis pub/sub message on [`DeliveryQueue::wake_channel`]. (apalis-redis
//! 1.0 announces a job on `tasks:…:available` only when it is pushed
//! without a run time, and its push script gives every job one, so that
//! announcement never comes.) The memory queue needs no wake-up: its
//! workers wait on the channel itself.

use std::{
    collections::HashSet,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use apalis::prelude::{
    MemorySink, MemoryStorage, MemoryStorageError, PollSnapshot, PollStrategy, Task, TaskBuilder,
    TaskId, TaskSink,
};
use apalis_redis::RedisStorage;
use chrono::{DateTime, Utc};
use entity::{delivery, event, webhook};
use futures_util::task::AtomicWaker;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::domain::outbox;

/// A delivery to attempt at a time: what a job asks of a worker.
#[derive(Debug, Clone)]
pub struct Due {
    pub delivery_id: String,
    pub at: DateTime<Utc>,
}

impl Due {
    /// A pending delivery's next attempt; `None` once it is settled.
    pub fn of(delivery: &delivery::Model) -> Option<Self> {
        Some(Self {
            delivery_id: delivery.id.clone(),
            at: delivery.next_attempt_at?,
        })
    }

    /// The id of the job for this attempt. Two pushes of the same attempt
    /// make one job; the next attempt (a retry, a redelivery) is due at
    /// another time and gets a job of its own.
    fn job_id(&self) -> TaskId {
        TaskId::from_string(format!(
            "{}@{}",
            self.delivery_id,
            self.at.timestamp_micros()
        ))
    }
}

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

impl DeliveryJob {
    /// The job for a delivery a change hands over: its id, and of the
    /// rest what the row cannot be rebuilt without.
    pub fn handed_over(handoff: Handoff) -> Self {
        let Handoff {
            delivery,
            event,
            webhook,
        } = handoff;
        Self {
            delivery_id: delivery.id,
            handoff: Some(HandedOver {
                event,
                webhook,
                made_at: delivery.created_at,
                leased_until: delivery.locked_until,
            }),
        }
    }
}

/// A delivery as the change that owed it inserted it, already leased to
/// this process (see [`DeliveryQueue::handover_lease`]), with its event
/// and its webhook. The delivery and event are not stale: the event never
/// changes, and the lease keeps every other attempt off the delivery. The
/// webhook is the row as of the event's insert, which read the webhooks'
/// version (see `domain::outbox`): a webhook updated after the change
/// committed applies from the next event, like a change to its filters,
/// and to every retry. Its attempt reads nothing and writes no lease.
#[derive(Debug)]
pub struct Handoff {
    pub delivery: delivery::Model,
    pub event: Arc<event::Model>,
    pub webhook: Arc<webhook::Model>,
}

/// A [`Handoff`] as its job waits in the embedded queue: its event and
/// webhook, shared with the event's other deliveries, and the little its
/// row holds besides, which is rebuilt when the job is taken
/// ([`HandedOver::delivery`]). A fan-out's backlog holds tens of
/// thousands of these: holding the row too (six strings more), a job was
/// eight allocations, and in a 20 s fan-out the server's memory grew by
/// about 1.1 KiB per queued delivery, the allocator's partly used pages
/// included; with these about 0.7 KiB.
#[derive(Debug, Clone)]
pub struct HandedOver {
    pub event: Arc<event::Model>,
    pub webhook: Arc<webhook::Model>,
    made_at: DateTime<Utc>,
    pub leased_until: Option<DateTime<Utc>>,
}

impl HandedOver {
    /// The delivery's row as the change inserted it.
    pub fn delivery(&self, id: &str) -> delivery::Model {
        outbox::pending_delivery(
            id.to_owned(),
            &self.webhook.id,
            &self.webhook.organization_id,
            &self.event,
            self.made_at,
            self.leased_until,
        )
    }
}

// One per process, so the Redis variant's size costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum Storage {
    Redis(RedisStorage<DeliveryJob>),
    Embedded(Embedded),
}

/// The in-memory queue: an unbounded channel whose receiving end is shared
/// by every apalis worker this process starts (one at a time; a restarted
/// worker takes over the same channel, so nothing queued is dropped), and
/// the deliveries waiting in it, so that one is never queued twice.
///
/// The channel holds bare jobs; apalis' task around each (its execution
/// context, a few allocations of its own) is built only as the worker
/// takes it, so a backlog costs the jobs alone.
///
/// apalis-sqlite on an in-memory database served here before; its
/// acknowledgement query re-parses a JSON batch for every row of its job
/// table, which made a fan-out to 100 webhooks spend most of its CPU there.
#[derive(Clone)]
pub struct Embedded {
    sender: mpsc::UnboundedSender<DeliveryJob>,
    receiver: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<DeliveryJob>>>,
    waiting: Arc<std::sync::Mutex<HashSet<String>>>,
}

impl Embedded {
    fn new() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        Self {
            sender,
            receiver: Arc::new(tokio::sync::Mutex::new(receiver)),
            waiting: Arc::default(),
        }
    }

    /// An apalis backend reading this queue, for one worker.
    pub fn backend(&self) -> MemoryStorage<DeliveryJob> {
        let jobs = futures_util::stream::unfold(self.clone(), |queue| async move {
            let job = queue.take().await?;
            Some((TaskBuilder::new(job).build(), queue))
        });
        // apalis asks the backend's sink whether it is ready; jobs are
        // pushed through `sender` instead, so the sink takes nothing.
        let sink = futures_util::sink::drain().sink_map_err(|never| match never {});
        let sink: Box<
            dyn futures_util::Sink<Task<DeliveryJob>, Error = MemoryStorageError>
                + Send
                + Sync
                + Unpin,
        > = Box::new(sink);
        MemoryStorage::new_with(
            MemorySink::new(Arc::new(futures_util::lock::Mutex::new(sink))),
            jobs.boxed(),
        )
    }

    /// The next job, once there is one.
    async fn take(&self) -> Option<DeliveryJob> {
        let job = self.receiver.lock().await.recv().await?;
        (self.waiting.lock().expect("poisoned")).remove(&job.delivery_id);
        Some(job)
    }

    /// Queues `job` now, or at `at` (a timer in this process: should the
    /// process end first, the sweeper finds the delivery due).
    fn push(&self, job: DeliveryJob, at: DateTime<Utc>) {
        match (at - Utc::now()).to_std() {
            Ok(delay) if !delay.is_zero() => {
                let queue = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    queue.send(job);
                });
            }
            _ => self.send(job),
        }
    }

    /// Queues `job` unless a job for its delivery is waiting already: that
    /// one's attempt reads the delivery as it is then.
    fn send(&self, job: DeliveryJob) {
        let new = (self.waiting.lock().expect("poisoned")).insert(job.delivery_id.clone());
        if new {
            // The receiver lives as long as the queue does.
            let _ = self.sender.send(job);
        }
    }
}

#[derive(Clone)]
pub struct DeliveryQueue {
    storage: Storage,
    wake: Wake,
    name: String,
    handover_lease: Option<Duration>,
}

/// How often idle workers look at the queue even without a wake-up: this
/// bounds how late a scheduled retry can start and how long a wake-up lost
/// between processes can cost.
pub const IDLE_POLL: Duration = Duration::from_millis(500);

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

impl DeliveryQueue {
    /// A queue in Redis, shared by every process using the same prefix.
    pub fn redis(conn: redis::aio::ConnectionManager, prefix: &str) -> Self {
        let name = queue_name(prefix);
        let storage = RedisStorage::new(conn).with_config(redis_config(&name));
        Self {
            storage: Storage::Redis(storage),
            wake: Wake::default(),
            name,
            handover_lease: None,
        }
    }

    /// A queue in this process's memory: for a single `serve` process
    /// with its in-process workers. With `handover_lease`, see
    /// [`DeliveryQueue::handover_lease`].
    pub fn embedded(prefix: &str, handover_lease: Option<Duration>) -> Self {
        Self {
            storage: Storage::Embedded(Embedded::new()),
            wake: Wake::default(),
            name: queue_name(prefix),
            handover_lease,
        }
    }

    /// How long the lease is that new deliveries are inserted with, when
    /// this process's own workers will attempt them (the embedded queue
    /// with in-process workers): the change hands each over in memory
    /// with its event, and the attempt starts without a lease's write and
    /// the reads that follow it. Should this process end first, the lease
    /// runs out and the sweeper queues the delivery again. `None`: new
    /// deliveries are inserted free and queued by id.
    pub fn handover_lease(&self) -> Option<Duration> {
        self.handover_lease
    }

    /// Queues the deliveries a change has just committed: handed over
    /// in memory when they were inserted leased, else by id.
    pub async fn push_new(&self, owed: Vec<Handoff>) {
        match (&self.storage, self.handover_lease) {
            (Storage::Embedded(queue), Some(_)) => {
                for handoff in owed {
                    queue.send(DeliveryJob::handed_over(handoff));
                }
            }
            _ => {
                let due: Vec<Due> = owed.iter().filter_map(|h| Due::of(&h.delivery)).collect();
                self.push(&due).await;
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Redis pub/sub channel, one per queue, on which a push wakes the
    /// workers of every process.
    pub fn wake_channel(&self) -> String {
        format!("junction:{}:wake", self.name)
    }

    pub fn is_redis(&self) -> bool {
        matches!(self.storage, Storage::Redis(_))
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    pub fn wake(&self) -> &Wake {
        &self.wake
    }

    /// Queues one job per due attempt, unless its job is queued already.
    /// A failure is logged, not returned: the rows are committed and the
    /// sweeper will queue them again.
    pub async fn push(&self, due: &[Due]) {
        if due.is_empty() {
            return;
        }
        let job = |due: &Due| DeliveryJob {
            delivery_id: due.delivery_id.clone(),
            handoff: None,
        };
        match &self.storage {
            Storage::Redis(storage) => {
                let mut storage = storage.clone();
                let now = Utc::now();
                let tasks: Vec<_> = due
                    .iter()
                    .map(|due| {
                        let task = TaskBuilder::new(job(due)).task_id(due.job_id());
                        // A time already past means now: onto the queue
                        // itself rather than into the scheduled set.
                        match due.at > now {
                            true => task.run_at_timestamp(due.at.timestamp().max(0) as u64),
                            false => task,
                        }
                        .build()
                    })
                    .collect();
                let pushed = storage.push_all(futures_util::stream::iter(tasks)).await;
                match pushed {
                    Ok(()) => {
                        self.wake.signal();
                        // Best effort and off the caller's path: a lost
                        // wake-up costs at most one IDLE_POLL.
                        let mut conn = storage.get_connection().clone();
                        let channel = self.wake_channel();
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
                    Err(error) => tracing::warn!(
                        %error,
                        count = due.len(),
                        "queueing deliveries failed; the sweeper will queue them again"
                    ),
                }
            }
            Storage::Embedded(queue) => due.iter().for_each(|due| queue.push(job(due), due.at)),
        }
    }
}

/// A wake-up for idle workers: set by a push, consumed by the worker's
/// poll strategy.
#[derive(Clone, Default)]
pub struct Wake(Arc<WakeInner>);

#[derive(Default)]
struct WakeInner {
    waker: AtomicWaker,
    set: AtomicBool,
}

impl Wake {
    pub fn signal(&self) {
        self.0.set.store(true, Ordering::Release);
        self.0.waker.wake();
    }

    fn poll_signalled(&self, cx: &mut Context<'_>) -> bool {
        if self.0.set.swap(false, Ordering::AcqRel) {
            return true;
        }
        self.0.waker.register(cx.waker());
        self.0.set.swap(false, Ordering::AcqRel)
    }
}

/// apalis poll strategy: poll when woken, and at least every [`IDLE_POLL`].
/// The timer is polled again after each tick so that it re-arms with this
/// task's waker (apalis' own interval strategy stops firing otherwise).
pub struct WakeOrTick {
    wake: Wake,
    tick: tokio::time::Interval,
}

impl WakeOrTick {
    pub fn new(wake: Wake) -> Self {
        let mut tick = tokio::time::interval(IDLE_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self { wake, tick }
    }
}

impl PollStrategy for WakeOrTick {
    fn poll_drive(&mut self, cx: &mut Context<'_>, _: &PollSnapshot) -> Poll<Option<()>> {
        let mut ready = self.wake.poll_signalled(cx);
        while Pin::new(&mut self.tick).poll_tick(cx).is_ready() {
            ready = true;
        }
        if ready {
            Poll::Ready(Some(()))
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(id: &str) -> Due {
        Due {
            delivery_id: id.to_owned(),
            at: Utc::now(),
        }
    }

    /// The sweeper re-queues deliveries that may still have their job;
    /// those must not become a second job.
    #[tokio::test]
    async fn a_delivery_waiting_in_the_embedded_queue_is_not_queued_again() {
        let queue = DeliveryQueue::embedded("test:", None);
        let Storage::Embedded(embedded) = queue.storage().clone() else {
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
        let again = Due {
            delivery_id: "a".into(),
            at: first.at,
        };
        let retry = Due {
            delivery_id: "a".into(),
            at: first.at + chrono::Duration::seconds(5),
        };
        assert_eq!(first.job_id(), again.job_id());
        assert_ne!(first.job_id(), retry.job_id());
        assert_ne!(first.job_id(), due("b").job_id());
    }
}
