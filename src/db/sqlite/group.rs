//! Group commit: SQLite writers that wait in line share one transaction,
//! a savepoint each, committed once for all of them (see
//! [`SqliteWriter::begin`]).

use std::{
    sync::{Arc, atomic::AtomicBool, atomic::Ordering},
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr};
use tokio::sync::{OwnedMutexGuard, watch};

use super::writer::SqliteWriter;

/// How many writers may share one SQLite transaction, and for how long
/// the first of them may wait for the commit.
pub(crate) const GROUP_MEMBERS: usize = 32;
pub(crate) const GROUP_AGE: Duration = Duration::from_millis(4);

/// One SQLite transaction that several writers share, a savepoint each,
/// committed once for all of them.
pub(crate) struct Group {
    pub(crate) txn: DatabaseTransaction,
    /// What the last member to work left of its savepoint.
    pub(crate) left: std::sync::Mutex<Left>,
    /// Members so far, to name their savepoints in turn.
    pub(crate) members: usize,
    /// Members that are done and wait for the commit.
    pub(crate) deferred: usize,
    pub(crate) started: Instant,
    /// The commit's outcome, for the deferred members.
    pub(crate) done: watch::Sender<Option<Result<(), String>>>,
}

/// The names members' savepoints take in turn. At most two are open at a
/// time, the last member's (released with the next member's first
/// statement) and the working member's, and they differ: `ROLLBACK TO`
/// reaches only the failing member's own work, and a failing member whose
/// savepoint was never opened (its first statement never ran) finds none
/// to roll back to rather than its predecessor's.
pub(crate) const SAVEPOINTS: [&str; 2] = ["member_a", "member_b"];

/// What a member left of its savepoint, for the next statement on the
/// group's transaction to close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Left {
    /// No savepoint is open.
    Nothing,
    /// The member succeeded: its savepoint is to be released.
    Release(&'static str),
    /// The member failed or was dropped: its work is to be undone.
    RollBack(&'static str),
}

impl Left {
    /// The statements that close what was left and open `savepoint`, to
    /// run just before the next member's first statement.
    pub(crate) fn then_open(self, savepoint: &str) -> String {
        let close = match self {
            Left::Nothing => String::new(),
            Left::Release(last) => format!("RELEASE {last}; "),
            // A group with a failed member is committed, not handed on;
            // were it handed on, a savepoint found missing would fail the
            // next member, which is safe.
            Left::RollBack(last) => format!("ROLLBACK TO {last}; RELEASE {last}; "),
        };
        format!("{close}SAVEPOINT {savepoint}; ")
    }
}

impl Group {
    pub(crate) async fn begin(db: &DatabaseConnection) -> Result<Self, DbErr> {
        Ok(Self {
            txn: crate::db::connect::begin_write(db).await?,
            left: std::sync::Mutex::new(Left::Nothing),
            members: 0,
            deferred: 0,
            started: Instant::now(),
            done: watch::channel(None).0,
        })
    }

    pub(crate) fn leave(&self, left: Left) {
        *self.left.lock().expect("savepoint state lock") = left;
    }

    /// Takes what the last member left, for a statement to close it.
    pub(crate) fn take_left(&self) -> Left {
        std::mem::replace(
            &mut *self.left.lock().expect("savepoint state lock"),
            Left::Nothing,
        )
    }

    /// Commits every member's work and tells the deferred members. A
    /// failed member's work is undone first; should that fail, nothing is
    /// committed.
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        let committed = match self.take_left() {
            Left::RollBack(savepoint) => {
                let undone = self
                    .txn
                    .execute_unprepared(&format!("ROLLBACK TO {savepoint}; RELEASE {savepoint}"))
                    .await;
                match undone {
                    Ok(_) => self.txn.commit().await,
                    // Never opened: the member's first statement never ran.
                    Err(error) if error.to_string().contains("no such savepoint") => {
                        self.txn.commit().await
                    }
                    // Dropping the transaction rolls every member back.
                    Err(error) => Err(error),
                }
            }
            Left::Nothing | Left::Release(_) => self.txn.commit().await,
        };
        let outcome = committed.as_ref().map(|_| ()).map_err(DbErr::to_string);
        self.done.send_replace(Some(outcome));
        committed
    }

    /// Commits where no member waits on the outcome itself (a group left
    /// open, or one whose last member failed): a failure is logged, and the
    /// deferred members hear it through `done`.
    pub(crate) async fn commit_logged(self) {
        if let Err(error) = self.commit().await {
            tracing::error!(%error, "committing a group of SQLite writes failed");
        }
    }

    /// Whether the member leaving now may leave the commit to the next:
    /// someone is in line to join, and the group is neither full nor old.
    pub(crate) fn may_wait(&self, writer: &SqliteWriter) -> bool {
        writer.waiting.load(Ordering::Acquire) > 0
            && self.deferred + 1 < GROUP_MEMBERS
            && self.started.elapsed() < writer.group_age
    }
}

/// A writer's place in a group, with the slot while it works.
pub(crate) struct Member {
    pub(crate) writer: Arc<SqliteWriter>,
    /// The group, while this member holds the slot.
    pub(crate) group: Option<Group>,
    pub(crate) slot: Option<OwnedMutexGuard<()>>,
    /// The member's savepoint's name.
    pub(crate) savepoint: &'static str,
    /// Whether the member's savepoint was opened (or its first statement
    /// was sent with it, which either opened it or failed the group).
    pub(crate) opened: AtomicBool,
    /// Held while the first statement is sent, so that two at once cannot
    /// both open a savepoint.
    pub(crate) opening: tokio::sync::Mutex<()>,
}

impl Member {
    pub(crate) fn group(&self) -> &Group {
        self.group
            .as_ref()
            .expect("a working member holds its group")
    }
}

impl Drop for Member {
    /// A member that ends without committing (an error, or its future
    /// dropped) must not strand those who deferred to it: their work is
    /// committed all the same, still under the slot. A group of one just
    /// rolls back.
    fn drop(&mut self) {
        let Some(group) = self.group.take() else {
            return;
        };
        if group.deferred == 0 {
            return;
        }
        let slot = self.slot.take();
        let commit = async move {
            group.commit_logged().await;
            drop(slot);
        };
        // With no runtime left (the process is ending) the group rolls
        // back, and its deferred members hear it ended uncommitted.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            drop(runtime.spawn(commit));
        }
    }
}
