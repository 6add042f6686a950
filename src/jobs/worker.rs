//! Delivery workers: apalis workers that take delivery jobs off the queue
//! and run attempts, and the sweeper's loop. They run inside `junction
//! serve` by default and alone in `junction worker`; any number of
//! processes may run them against one database and one Redis.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use apalis::prelude::{BoxDynError, Data, PollWith, WorkerBuilder, WorkerBuilderExt};
use apalis_core::backend::Vacuum;
use tokio::sync::watch;

use super::{DeliveryJob, DeliveryJobs, Storage, wake::WakeOrTick};
use crate::{
    domain::Ctx,
    domain::{
        delivery::{attempt::Deliverer, sweeper},
        ids,
    },
    events::listen_forever,
};

/// Flipped to `true` once to stop the workers.
pub type Stop = watch::Receiver<bool>;

async fn stopped(mut stop: Stop) -> Result<(), std::io::Error> {
    // A dropped sender also means stop.
    let _ = stop.wait_for(|s| *s).await;
    Ok(())
}

/// Runs this process's delivery workers and sweeper until `stop` flips,
/// then lets in-flight attempts finish.
pub async fn run(app: Ctx, jobs: DeliveryJobs, stop: Stop) -> anyhow::Result<()> {
    let deliverer = Arc::new(Deliverer::new(app.clone())?);
    let mut listener = None;
    if let Storage::Redis(..) = &jobs.storage
        && let Some(url) = &app.settings.redis_url
    {
        // Every push is announced on this channel: workers in other
        // processes than the pusher start at once instead of at their next
        // poll.
        let channel = super::wake_channel(&jobs.name);
        let wake = jobs.wake.clone();
        let client = redis::Client::open(url.as_str())?;
        listener = Some(tokio::spawn(listen_forever(client, channel, move |_| {
            wake.signal()
        })));
    }
    let result = tokio::join!(
        supervise(&app, &jobs, deliverer, stop.clone()),
        sweep(&app, &jobs, stop)
    )
    .0;
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
        if let Err(e) = deliverer
            .attempt(&job.delivery_id, job.handoff.as_ref())
            .await
        {
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
async fn supervise(
    app: &Ctx,
    jobs: &DeliveryJobs,
    deliverer: Arc<Deliverer>,
    stop: Stop,
) -> anyhow::Result<()> {
    let concurrency = app.settings.worker_concurrency;
    while !*stop.borrow() {
        let name = worker_name();
        tracing::info!(worker = %name, queue = jobs.name(), concurrency, "delivery worker starting");
        let result = match jobs.storage.clone() {
            Storage::Redis(storage, _) => {
                WorkerBuilder::new(name)
                    .backend(PollWith::new(storage, WakeOrTick::new(jobs.wake.clone())))
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
async fn sweep(app: &Ctx, jobs: &DeliveryJobs, mut stop: Stop) -> anyhow::Result<()> {
    let interval = Duration::from_millis(app.settings.sweep_interval_ms.max(10));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|s| *s) => return Ok(()),
        }
        if let Err(e) = sweeper::sweep_once(app).await {
            tracing::warn!(error = e.detail(), "delivery sweep failed");
        }
        if let Err(e) = sweeper::prune_once(app).await {
            tracing::warn!(error = e.detail(), "pruning old deliveries failed");
        }
        vacuum(jobs).await;
    }
}

/// Clears finished jobs out of the queue, a bounded batch per Redis call
/// (see vendor/apalis-redis); outcomes live in the database.
async fn vacuum(jobs: &DeliveryJobs) {
    let cleared = match jobs.storage.clone() {
        Storage::Redis(mut storage, _) => storage.vacuum().await.map_err(|e| e.to_string()),
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
