//! The queue in this process's memory, for a single `serve` process with
//! its in-process workers.

use std::{collections::HashSet, sync::Arc};

use apalis::prelude::{MemorySink, MemoryStorage, MemoryStorageError, Task, TaskBuilder};
use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::DeliveryJob;

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
    pub(super) receiver: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<DeliveryJob>>>,
    waiting: Arc<std::sync::Mutex<HashSet<String>>>,
}

impl Embedded {
    pub(super) fn new() -> Self {
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
    pub(super) async fn take(&self) -> Option<DeliveryJob> {
        let job = self.receiver.lock().await.recv().await?;
        (self.waiting.lock().expect("poisoned")).remove(&job.delivery_id);
        Some(job)
    }

    /// Queues `job` now, or at `at` (a timer in this process: should the
    /// process end first, the sweeper finds the delivery due).
    pub(super) fn push(&self, job: DeliveryJob, at: DateTime<Utc>) {
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
    pub(super) fn send(&self, job: DeliveryJob) {
        let new = (self.waiting.lock().expect("poisoned")).insert(job.delivery_id.clone());
        if new {
            // The receiver lives as long as the queue does.
            let _ = self.sender.send(job);
        }
    }
}
