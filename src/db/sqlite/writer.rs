//! SQLite's one writer: the slot writers take in turn, and the thread the
//! writes run on.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::OwnedMutexGuard;
use tracing::Instrument;

use super::group::{GROUP_AGE, Group, Member, SAVEPOINTS};
use crate::db::txn::Txn;

/// SQLite's one writer slot, with a short way in for delivery leases, the
/// thread the API's writing requests run on, and the transaction that
/// writers waiting in line share.
pub struct SqliteWriter {
    slot: Arc<tokio::sync::Mutex<()>>,
    line: tokio::sync::Mutex<()>,
    /// Writers that asked to join a group and do not have the slot yet.
    pub(crate) waiting: AtomicUsize,
    /// The group transaction the last writer left open for the next.
    pub(crate) open: std::sync::Mutex<Option<Group>>,
    /// How long a group's first writer may wait for the commit.
    pub(crate) group_age: Duration,
    /// Where [`crate::db::Db::on_writer`] runs the writing work it is
    /// given; `None`: in the caller's task.
    pub(crate) thread: Option<WriterThread>,
}

/// The writer's thread: a runtime that runs until the writer is dropped.
pub(crate) struct WriterThread {
    pub(crate) runtime: tokio::runtime::Handle,
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

    /// A writer whose groups wait `group_age` for more members: tests that
    /// check who waits for whom use a long one, as a loaded machine can
    /// take longer than [`GROUP_AGE`] for a group's first write alone.
    #[cfg(test)]
    pub fn with_group_age(group_age: Duration) -> Self {
        Self {
            group_age,
            ..Self::default()
        }
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
        match thread.runtime.spawn(work.in_current_span()).await {
            Ok(done) => done,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            // The runtime ends only with the writer, which `self` borrows.
            Err(error) => panic!("the SQLite writer thread stopped: {error}"),
        }
    }

    /// Begins a write: a savepoint in the transaction the previous writer
    /// left open, or in a new one.
    ///
    /// Group commit. A commit writes every page the transaction dirtied to
    /// the WAL, and consecutive writes mostly dirty the same pages (the last
    /// leaf of each table and index they append to). A writer that finishes
    /// while another waits in line leaves the transaction open for it and
    /// waits for the commit; the last of the line (or of
    /// [`GROUP_MEMBERS`](super::group::GROUP_MEMBERS), or after `group_age`) commits for all. Each
    /// writer's work stays its own: an error rolls back to its savepoint
    /// only. Nobody hears of success before the commit that makes the work
    /// durable, so a caller queues jobs and publishes events as before.
    pub async fn begin(self: &Arc<Self>, db: &DatabaseConnection) -> Result<Txn, DbErr> {
        let slot = self.take(false).await;
        let open = self.open.lock().expect("writer group lock").take();
        // A group left open has members waiting on its commit and needs no
        // BEGIN; only a new one, which nobody waits on yet, can fail here.
        let mut group = match open {
            Some(group) => group,
            None => Group::begin(db).await?,
        };
        let savepoint = SAVEPOINTS[group.members % SAVEPOINTS.len()];
        group.members += 1;
        // The savepoint opens with the member's first statement (see
        // `Txn`'s `ConnectionTrait`).
        Ok(Txn::in_group(Member {
            writer: self.clone(),
            group: Some(group),
            slot: Some(slot),
            savepoint,
            opened: AtomicBool::new(false),
            opening: tokio::sync::Mutex::new(()),
        }))
    }

    /// Takes the slot for work outside any group (a delivery's lease, a
    /// checkpoint), committing the group left open first: SQLite's write
    /// lock is the group's until then. `first` passes the writers in line
    /// (see [`SqliteWriter::take`]).
    pub async fn take_alone(self: &Arc<Self>, first: bool) -> OwnedMutexGuard<()> {
        let slot = self.take(first).await;
        self.close_open().await;
        slot
    }

    /// Takes the slot. Ordinary writers line up in `line` first, so at most
    /// one of them waits on the slot itself: a writer that goes `first`
    /// waits for the one holding the slot and at most one more, not for
    /// every write the API has queued (a delivery's lease sits between an
    /// event and its delivery).
    pub(crate) async fn take(self: &Arc<Self>, first: bool) -> OwnedMutexGuard<()> {
        if first {
            return self.slot.clone().lock_owned().await;
        }
        let mut waiting = Waiting::count(self);
        let _line = self.line.lock().await;
        let slot = self.slot.clone().lock_owned().await;
        waiting.arrived = true;
        slot
    }

    /// Commits the group left open, if any; the caller holds the slot.
    async fn close_open(&self) {
        let open = self.open.lock().expect("writer group lock").take();
        if let Some(group) = open {
            group.commit_logged().await;
        }
    }
}

/// Counts a writer in line for as long as it waits there.
pub(crate) struct Waiting {
    writer: Arc<SqliteWriter>,
    pub(crate) arrived: bool,
}

impl Waiting {
    pub(crate) fn count(writer: &Arc<SqliteWriter>) -> Self {
        writer.waiting.fetch_add(1, Ordering::AcqRel);
        Self {
            writer: writer.clone(),
            arrived: false,
        }
    }
}

impl Drop for Waiting {
    /// A writer that leaves the line before its turn (its future dropped)
    /// may have been counted on by a member that left the commit to it:
    /// whoever takes the slot next commits the group, and this closer
    /// makes sure someone does.
    fn drop(&mut self) {
        self.writer.waiting.fetch_sub(1, Ordering::AcqRel);
        if self.arrived {
            return;
        }
        let writer = self.writer.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { drop(writer.take_alone(true).await) });
        }
    }
}

impl Default for SqliteWriter {
    fn default() -> Self {
        Self {
            slot: Arc::default(),
            line: tokio::sync::Mutex::default(),
            waiting: AtomicUsize::default(),
            open: std::sync::Mutex::default(),
            group_age: GROUP_AGE,
            thread: None,
        }
    }
}
