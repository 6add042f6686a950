//! What every request handler, resolver and job can reach.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{PrincipalCache, jwt::JwtKeys},
    config::Settings,
    delivery::queue::DeliveryQueue,
    events::{DeliveryBus, EventBus},
    metrics::Metrics,
};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub jwt: JwtKeys,
    /// Credentials checked recently (see [`PrincipalCache`]).
    pub principals: Arc<PrincipalCache>,
    pub events: EventBus,
    /// Delivery state changes, for `deliveryUpdated`.
    pub deliveries: DeliveryBus,
    /// Where delivery jobs go once their rows have committed.
    pub queue: DeliveryQueue,
    pub redis: Option<redis::aio::ConnectionManager>,
    pub metrics: Arc<Metrics>,
    /// SQLite takes one writer at a time. Writers queue here, before they
    /// take a pooled connection, so a queue of writers can never hold every
    /// connection while the one with the lock waits for another.
    pub sqlite_writer: Option<Arc<SqliteWriter>>,
}

/// SQLite's one writer slot, with a short way in for delivery leases, and
/// the thread the API's writing requests run on.
#[derive(Default)]
pub struct SqliteWriter {
    slot: Arc<tokio::sync::Mutex<()>>,
    line: tokio::sync::Mutex<()>,
    /// Where [`AppState::run_write`] runs requests that write; `None`: in
    /// the caller's task.
    thread: Option<WriterThread>,
}

/// The writer's thread: a runtime that runs until the writer is dropped.
struct WriterThread {
    runtime: tokio::runtime::Handle,
    /// Dropped with the writer, which ends the thread and its runtime.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl SqliteWriter {
    /// A writer with its own thread for the API's writing requests.
    pub fn with_thread() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("sqlite-writes".into())
            .spawn(move || {
                let _ = runtime.block_on(stopped);
            })?;
        Ok(Self {
            thread: Some(WriterThread {
                runtime: handle,
                _stop: stop,
            }),
            ..Self::default()
        })
    }

    /// Runs `work` on the writer's thread, if it has one. Each statement of
    /// the transaction that holds the slot hops to its connection's thread
    /// and back; on an HTTP worker thread every return waited behind the
    /// parsing and resolving of all the other requests queued there, so the
    /// slot stayed taken for milliseconds while the CPU stood partly idle.
    /// On this thread only writers queue, and they mostly wait on the slot.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> T {
        let Some(thread) = &self.thread else {
            return work.await;
        };
        match thread.runtime.spawn(work).await {
            Ok(done) => done,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            // The runtime ends only with the writer, which `self` borrows.
            Err(error) => panic!("the SQLite writer thread stopped: {error}"),
        }
    }

    /// Takes the slot. Ordinary writers line up in `line` first, so at most
    /// one of them waits on the slot itself: a writer that goes `first`
    /// waits for the one holding the slot and at most one more, not for
    /// every write the API has queued (a delivery's lease sits between an
    /// event and its delivery).
    pub async fn take(&self, first: bool) -> tokio::sync::OwnedMutexGuard<()> {
        if first {
            return self.slot.clone().lock_owned().await;
        }
        let _line = self.line.lock().await;
        self.slot.clone().lock_owned().await
    }
}

/// A write transaction, holding SQLite's writer slot until it ends.
pub struct WriteTxn {
    pub txn: sea_orm::DatabaseTransaction,
    _slot: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTxn {
    /// Commits and hands SQLite's writer slot to the next writer at once,
    /// before the caller goes on to queue jobs or publish events.
    pub async fn commit(self) -> Result<(), sea_orm::DbErr> {
        self.txn.commit().await
    }
}

impl AppState {
    /// Begins a transaction that will write (see [`crate::db::begin_write`]).
    pub async fn begin_write(&self) -> Result<WriteTxn, sea_orm::DbErr> {
        let slot = self.writer_slot(false).await;
        Ok(WriteTxn {
            txn: crate::db::begin_write(&self.db).await?,
            _slot: slot,
        })
    }

    /// SQLite's writer slot, taken ahead of the API's queued writes (see
    /// [`SqliteWriter::take`]), for one statement that commits on its own:
    /// a delivery's lease. `None` on other databases, which need no slot.
    pub async fn writer_slot_first(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        self.writer_slot(true).await
    }

    /// Runs `work`, a request that writes: on SQLite on the writer's own
    /// thread (see [`SqliteWriter::run`]), else in place.
    pub async fn run_write<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> T {
        match &self.sqlite_writer {
            Some(writer) => writer.run(work).await,
            None => work.await,
        }
    }

    async fn writer_slot(&self, first: bool) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.sqlite_writer {
            Some(writer) => Some(writer.take(first).await),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::SqliteWriter;

    fn thread_name() -> Option<String> {
        std::thread::current().name().map(str::to_owned)
    }

    #[tokio::test]
    async fn writes_run_on_the_writer_thread() {
        let writer = SqliteWriter::with_thread().unwrap();
        let here = thread_name();
        assert_ne!(here.as_deref(), Some("sqlite-writes"));
        let there = writer.run(async { thread_name() }).await;
        assert_eq!(there.as_deref(), Some("sqlite-writes"));
        // Without a thread of its own, work runs in place.
        assert_eq!(
            SqliteWriter::default().run(async { thread_name() }).await,
            here
        );
    }

    #[tokio::test]
    #[should_panic(expected = "a writing request failed")]
    async fn a_panic_on_the_writer_thread_reaches_the_caller() {
        let writer = SqliteWriter::with_thread().unwrap();
        writer
            .run(async { panic!("a writing request failed") })
            .await
    }

    #[tokio::test]
    async fn the_writer_thread_ends_with_the_writer() {
        let writer = SqliteWriter::with_thread().unwrap();
        let (held, released) = tokio::sync::oneshot::channel::<()>();
        let runtime = writer.thread.as_ref().unwrap().runtime.clone();
        runtime.spawn(async move {
            let _held = held;
            std::future::pending::<()>().await
        });
        drop(writer);
        // The runtime shut down and dropped the task it was running.
        let ended = tokio::time::timeout(std::time::Duration::from_secs(5), released).await;
        assert!(
            matches!(ended, Ok(Err(_))),
            "the writer thread outlived its writer"
        );
    }

    #[tokio::test]
    async fn a_first_writer_passes_the_queued_ones() {
        let writer = Arc::new(SqliteWriter::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let held = writer.take(false).await;
        let mut tasks = Vec::new();
        let take = |name: &'static str, first: bool| {
            let (writer, order) = (writer.clone(), order.clone());
            tokio::spawn(async move {
                let _slot = writer.take(first).await;
                order.lock().unwrap().push(name);
            })
        };
        for name in ["api 1", "api 2", "api 3"] {
            tasks.push(take(name, false));
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        tasks.push(take("lease", true));
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        drop(held);
        for task in tasks {
            task.await.unwrap();
        }
        // "api 1" was already waiting on the slot itself; the lease goes
        // next, ahead of the writers still in line.
        assert_eq!(*order.lock().unwrap(), ["api 1", "lease", "api 2", "api 3"]);
    }
}
