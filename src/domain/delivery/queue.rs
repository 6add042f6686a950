//! The delivery queue as the domain sees it: where the deliveries a change
//! committed go to be attempted. `jobs/` runs it (apalis, in Redis or in
//! this process's memory). The database's outbox rows stay the truth: a
//! job only says "look at delivery X now", so a lost job costs latency (the
//! sweeper queues it again), never a delivery.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use entity::{delivery, event, webhook};

use crate::domain::outbox;

#[async_trait::async_trait]
pub trait Queue: Send + Sync {
    /// Queues one job per due attempt, unless its job is queued already.
    /// A failure is logged, not returned: the rows are committed and the
    /// sweeper will queue them again.
    async fn push(&self, due: &[Due]);

    /// Queues the deliveries a change has just committed: handed over in
    /// memory when they were inserted leased (see
    /// [`Queue::handover_lease`]), else by id.
    async fn push_new(&self, owed: Vec<Handoff>);

    /// How long the lease is that new deliveries are inserted with, when
    /// this process's own workers will attempt them from memory: the
    /// change hands each over with its event, and the attempt starts
    /// without a lease's write and the reads that follow it. Should this
    /// process end first, the lease runs out and the sweeper queues the
    /// delivery again. `None`: new deliveries are inserted free and queued
    /// by id.
    fn handover_lease(&self) -> Option<Duration>;
}

/// A delivery to attempt at a time: what a job asks of a worker. A queue
/// holds one job per attempt, so pushing one again adds nothing while its
/// job is there.
#[derive(Debug, Clone)]
pub struct Due {
    pub delivery_id: String,
    pub at: DateTime<Utc>,
    /// How many times the sweeper has found this attempt overdue for long
    /// (see `sweeper`): each is a job of its own, so that an attempt whose
    /// job is stuck outside the queue's reach is queued again after all.
    pub found_lost: u32,
}

impl Due {
    pub fn new(delivery_id: String, at: DateTime<Utc>) -> Self {
        Self {
            delivery_id,
            at,
            found_lost: 0,
        }
    }

    /// A pending delivery's next attempt; `None` once it is settled.
    pub fn of(delivery: &delivery::Model) -> Option<Self> {
        Some(Self::new(delivery.id.clone(), delivery.next_attempt_at?))
    }
}

/// A delivery as the change that owed it inserted it, already leased to
/// this process (see [`Queue::handover_lease`]), with its event
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

impl Handoff {
    /// The delivery's id, and what its job keeps of the rest.
    pub fn into_job(self) -> (String, HandedOver) {
        let Handoff {
            delivery,
            event,
            webhook,
        } = self;
        let kept = HandedOver {
            event,
            webhook,
            made_at: delivery.created_at,
            leased_until: delivery.locked_until,
        };
        (delivery.id, kept)
    }
}
