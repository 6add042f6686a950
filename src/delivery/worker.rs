//! Delivery workers: apalis workers that take delivery jobs off the queue
//! and run attempts, plus the sweeper that re-queues due deliveries whose
//! job was lost. They run inside `junction serve` by default and alone in
//! `junction worker`; any number of processes may run them against one
//! database and one Redis.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use apalis::prelude::{BoxDynError, Data, PollWith, WorkerBuilder, WorkerBuilderExt};
use apalis_core::backend::Vacuum;
use chrono::{DateTime, Utc};
use entity::delivery;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use tokio::sync::watch;

use super::{
    attempt::Deliverer,
    queue::{DeliveryJob, Due, Storage, WakeOrTick},
};
use crate::{
    domain::{
        ids,
        outbox::{PENDING, lease_free, status_is},
    },
    events::listen_forever,
    state::AppState,
};

/// Deliveries the sweeper re-queues per pass.
const SWEEP_BATCH: u64 = 1000;
/// Expired deliveries deleted per transaction, and transactions per pass.
const PRUNE_BATCH: u64 = 1000;
const PRUNE_BATCHES: usize = 10;

/// Flipped to `true` once to stop the workers.
pub type Stop = watch::Receiver<bool>;

async fn stopped(mut stop: Stop) -> Result<(), std::io::Error> {
    // A dropped sender also means stop.
    let _ = stop.wait_for(|s| *s).await;
    Ok(())
}

/// Runs this process's delivery workers and sweeper until `stop` flips,
/// then lets in-flight attempts finish.
pub async fn run(app: AppState, stop: Stop) -> anyhow::Result<()> {
    let deliverer = Arc::new(Deliverer::new(app.clone())?);
    let mut listener = None;
    if app.queue.is_redis()
        && let Some(url) = &app.settings.redis_url
    {
        // Every push is announced on this channel: workers in other
        // processes than the pusher start at once instead of at their next
        // poll.
        let channel = app.queue.wake_channel();
        let wake = app.queue.wake().clone();
        let client = redis::Client::open(url.as_str())?;
        listener = Some(tokio::spawn(listen_forever(client, channel, move |_| {
            wake.signal()
        })));
    }
    let result = tokio::join!(supervise(&app, deliverer, stop.clone()), sweep(&app, stop)).0;
    if let Some(listener) = listener {
        listener.abort();
    }
    result
}

async fn handle(job: DeliveryJob, deliverer: Data<Arc<Deliverer>>) -> Result<(), BoxDynError> {
    // A task of its own: apalis polls all of a worker's jobs inside the
    // worker's one future, so every attempt would otherwise run on one
    // thread, whatever the cores. Once started, an attempt also runs to
    // its end should apalis drop this future.
    let deliverer = Arc::clone(&deliverer);
    let attempt = tokio::spawn(async move {
        // The outcome lives in the database, never in apalis: an error
        // here would only make apalis retry on its own schedule (STACK.md
        // trap 4). A delivery left due is found again by the sweeper.
        if let Err(e) = deliverer.attempt(&job).await {
            tracing::error!(delivery = %job.delivery_id, error = e.detail(), "delivery attempt failed to run");
        }
    });
    if let Err(e) = attempt.await {
        tracing::error!(error = %e, "delivery attempt panicked");
    }
    Ok(())
}

static WORKER_SEQ: AtomicU64 = AtomicU64::new(0);

/// A name no other worker has used: a restarted worker may not reuse its
/// old name within the heartbeat window (STACK.md trap 6).
fn worker_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "junction".to_owned());
    format!(
        "{host}-{}-{}-{}",
        std::process::id(),
        WORKER_SEQ.fetch_add(1, Ordering::Relaxed),
        ids::new_id()
    )
}

/// Runs one apalis worker, starting a fresh one whenever it dies (the
/// backend failing, Redis flushed or restarted) until `stop`.
async fn supervise(app: &AppState, deliverer: Arc<Deliverer>, stop: Stop) -> anyhow::Result<()> {
    let concurrency = app.settings.worker_concurrency;
    while !*stop.borrow() {
        let name = worker_name();
        tracing::info!(worker = %name, queue = app.queue.name(), concurrency, "delivery worker starting");
        let result = match app.queue.storage().clone() {
            Storage::Redis(storage) => {
                WorkerBuilder::new(name)
                    .backend(PollWith::new(
                        storage,
                        WakeOrTick::new(app.queue.wake().clone()),
                    ))
                    .data(deliverer.clone())
                    .concurrency(concurrency)
                    .build(handle)
                    .run_until(stopped(stop.clone()))
                    .await
            }
            Storage::Embedded(queue) => {
                WorkerBuilder::new(name)
                    .backend(queue.backend())
                    .data(deliverer.clone())
                    .concurrency(concurrency)
                    .build(handle)
                    .run_until(stopped(stop.clone()))
                    .await
            }
        };
        if *stop.borrow() {
            break;
        }
        match result {
            Ok(()) => tracing::warn!("delivery worker ended; starting another"),
            Err(e) => tracing::warn!(error = %e, "delivery worker failed; starting another"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    tracing::info!("delivery workers stopped");
    Ok(())
}

/// Every `SWEEP_INTERVAL_MS`: re-queue due deliveries nobody has started
/// within `SWEEP_GRACE_SECONDS`, measure queue depth and lag, delete
/// deliveries past `DELIVERY_RETENTION_SECONDS`, and clear finished jobs
/// out of the queue, so that its size follows the delivery rate.
async fn sweep(app: &AppState, mut stop: Stop) -> anyhow::Result<()> {
    let interval = Duration::from_millis(app.settings.sweep_interval_ms.max(10));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|s| *s) => return Ok(()),
        }
        if let Err(e) = sweep_once(app).await {
            tracing::warn!(error = e.detail(), "delivery sweep failed");
        }
        if let Err(e) = prune_once(app).await {
            tracing::warn!(error = e.detail(), "pruning old deliveries failed");
        }
        vacuum(app).await;
    }
}

/// A due delivery the sweeper considers lost: due for longer than `grace`
/// and with no attempt in flight.
fn overdue(now: DateTime<Utc>, grace: Duration) -> Condition {
    let cutoff = now - ids::span(grace);
    Condition::all()
        .add(status_is(PENDING))
        .add(delivery::Column::NextAttemptAt.lte(cutoff))
        .add(lease_free(now))
}

/// The deliveries the sweeper considers lost, longest overdue first.
fn lost(now: DateTime<Utc>, grace: Duration) -> Select<delivery::Entity> {
    delivery::Entity::find()
        .filter(overdue(now, grace))
        .order_by_asc(delivery::Column::NextAttemptAt)
}

/// The deliveries due by `now`, longest due first: the queue's depth and lag.
fn due(now: DateTime<Utc>) -> Select<delivery::Entity> {
    delivery::Entity::find()
        .filter(status_is(PENDING))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(delivery::Column::NextAttemptAt)
}

/// The first `n` deliveries `select` finds, as the attempts they are due for.
async fn first_due(
    app: &AppState,
    select: Select<delivery::Entity>,
    n: u64,
) -> crate::error::AppResult<Vec<Due>> {
    let rows: Vec<(String, Option<DateTime<Utc>>)> = select
        .limit(n)
        .select_only()
        .column(delivery::Column::Id)
        .column(delivery::Column::NextAttemptAt)
        .into_tuple()
        .all(&app.db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(delivery_id, at)| {
            Some(Due {
                delivery_id,
                at: at?,
            })
        })
        .collect())
}

/// The ids of the first `n` deliveries `select` finds.
async fn first_ids(
    app: &AppState,
    select: Select<delivery::Entity>,
    n: u64,
) -> crate::error::AppResult<Vec<String>> {
    Ok(select
        .limit(n)
        .select_only()
        .column(delivery::Column::Id)
        .into_tuple()
        .all(&app.db)
        .await?)
}

/// One sweeper pass; returns how many deliveries it queued again.
pub async fn sweep_once(app: &AppState) -> crate::error::AppResult<usize> {
    let now = Utc::now();
    let grace = Duration::from_secs(app.settings.sweep_grace_seconds);
    // Most of these still have their job, waiting behind a backlog; the
    // queue adds a job only for those that lost theirs. A pass here or in
    // another process finds them again, and adds nothing either.
    let lost = first_due(app, lost(now, grace), SWEEP_BATCH).await?;
    if !lost.is_empty() {
        tracing::debug!(count = lost.len(), "re-queueing overdue deliveries");
        app.queue.push(&lost).await;
    }

    let depth = due(now).count(&app.db).await?;
    let oldest = due(now).one(&app.db).await?.and_then(|d| d.next_attempt_at);
    app.metrics.delivery_queue_depth.set(depth as i64);
    app.metrics.delivery_queue_lag.set(
        oldest
            .map(|at| (now - at).num_milliseconds().max(0) as f64 / 1000.0)
            .unwrap_or(0.0),
    );
    Ok(lost.len())
}

/// Settled deliveries past `DELIVERY_RETENTION_SECONDS`: made before
/// `cutoff` (ids sort by creation, so the primary key finds them oldest
/// first without an index of their own), not `PENDING`, and unchanged
/// since (a redelivered one starts its retention again).
fn expired(cutoff: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(delivery::Column::Id.lt(ids::first_id_at(cutoff)))
        .add(Condition::all().add(status_is(PENDING)).not())
        .add(delivery::Column::UpdatedAt.lt(cutoff))
}

/// Expired deliveries, oldest first.
fn expired_first(cutoff: DateTime<Utc>) -> Select<delivery::Entity> {
    delivery::Entity::find()
        .filter(expired(cutoff))
        .order_by_asc(delivery::Column::Id)
}

/// Deletes up to `PRUNE_BATCHES` batches of expired deliveries (their
/// attempts go with them, by cascade); returns how many. A short write
/// transaction per batch, so a large first pruning after an upgrade or a
/// long pause never holds SQLite's writer for long.
pub async fn prune_once(app: &AppState) -> crate::error::AppResult<u64> {
    let retention = app.settings.delivery_retention_seconds;
    if retention == 0 {
        return Ok(0);
    }
    let cutoff = Utc::now() - ids::span(Duration::from_secs(retention));
    let mut pruned = 0;
    for _ in 0..PRUNE_BATCHES {
        // Read first: most passes find nothing and need no writer.
        let batch = first_ids(app, expired_first(cutoff), PRUNE_BATCH).await?;
        if batch.is_empty() {
            break;
        }
        let full = batch.len() as u64 == PRUNE_BATCH;
        let txn = app.db.begin().await?;
        pruned += delivery::Entity::delete_many()
            .filter(delivery::Column::Id.is_in(batch))
            // Unless redelivered since the read.
            .filter(expired(cutoff))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        if !full {
            break;
        }
    }
    if pruned > 0 {
        app.metrics.deliveries_pruned.inc_by(pruned);
        tracing::info!(count = pruned, "deleted deliveries past their retention");
    }
    Ok(pruned)
}

/// Clears finished jobs out of the queue, a bounded batch per Redis call
/// (see vendor/apalis-redis); outcomes live in the database.
async fn vacuum(app: &AppState) {
    let cleared = match app.queue.storage().clone() {
        Storage::Redis(mut storage) => storage.vacuum().await.map_err(|e| e.to_string()),
        // Memory keeps no finished jobs.
        Storage::Embedded(_) => Ok(0),
    };
    match cleared {
        Ok(count) => tracing::debug!(count, "cleared finished delivery jobs"),
        Err(error) => tracing::warn!(%error, "clearing finished delivery jobs failed"),
    }
}

/// A stop switch: send `true` to stop the workers.
pub fn stop_channel() -> (watch::Sender<bool>, Stop) {
    watch::channel(false)
}

#[cfg(test)]
mod tests {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, DbBackend, QueryTrait};

    use super::*;

    /// The steps of SQLite's plan for `query`.
    async fn plan(query: Select<delivery::Entity>) -> Vec<String> {
        let db = crate::db::in_memory().await;
        Migrator::up(&db, None).await.unwrap();
        let mut query = query.build(DbBackend::Sqlite);
        query.sql = format!("EXPLAIN QUERY PLAN {}", query.sql);
        db.query_all_raw(query)
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get("", "detail").unwrap())
            .collect()
    }

    /// The sweeper runs these every few seconds in every process; through
    /// the partial index they read the backlog, not every delivery ever
    /// made. Binding the status instead of writing it out would silently
    /// lose the index (see `status_is`).
    #[tokio::test]
    async fn due_work_is_read_through_the_pending_index() {
        let now = Utc::now();
        for query in [lost(now, Duration::from_secs(60)), due(now)] {
            let steps = plan(query).await;
            // The space tells it from `ix_deliveries_pending_webhook`.
            assert!(
                steps.iter().any(|s| s.contains("ix_deliveries_pending ")),
                "{steps:?}"
            );
        }
    }

    /// Pruning reads from the oldest delivery up to its cutoff through the
    /// primary key, not the whole table.
    #[tokio::test]
    async fn expired_deliveries_are_found_through_the_primary_key() {
        let steps = plan(expired_first(Utc::now())).await;
        assert_eq!(steps.len(), 1, "{steps:?}");
        assert!(
            steps[0]
                .starts_with("SEARCH deliveries USING INDEX sqlite_autoindex_deliveries_1 (id<?)"),
            "{steps:?}"
        );
    }
}
