//! Writing transactions, and SQLite's one writer: the slot writers take in
//! turn, the thread the API's writes run on, and group commit.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, ExecResult, IntoActiveModel, QueryResult,
    Statement, TryIntoModel,
};
use tokio::sync::{OwnedMutexGuard, watch};

use crate::db::Rows;

/// How many writers may share one SQLite transaction, and for how long
/// the first of them may wait for the commit (see [`SqliteWriter::begin`]).
const GROUP_MEMBERS: usize = 32;
const GROUP_AGE: Duration = if cfg!(test) {
    // The unit tests check who waits for whom; on a loaded machine a
    // group's first write alone can take longer than 4 ms, and a group that
    // old commits at once instead of waiting (seen once, with a build
    // running beside the tests).
    Duration::from_secs(2)
} else {
    Duration::from_millis(4)
};

/// SQLite's one writer slot, with a short way in for delivery leases, the
/// thread the API's writing requests run on, and the transaction that
/// writers waiting in line share.
#[derive(Default)]
pub struct SqliteWriter {
    slot: Arc<tokio::sync::Mutex<()>>,
    line: tokio::sync::Mutex<()>,
    /// Writers that asked to join a group and do not have the slot yet.
    waiting: AtomicUsize,
    /// The group transaction the last writer left open for the next.
    open: std::sync::Mutex<Option<Group>>,
    /// Where [`crate::state::AppState::run_write`] runs requests that
    /// write; `None`: in the caller's task.
    thread: Option<WriterThread>,
}

/// The writer's thread: a runtime that runs until the writer is dropped.
struct WriterThread {
    runtime: tokio::runtime::Handle,
    /// Dropped with the writer, which ends the thread and its runtime.
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// One SQLite transaction that several writers share, a savepoint each,
/// committed once for all of them.
struct Group {
    txn: DatabaseTransaction,
    /// What the last member to work left of its savepoint.
    left: std::sync::Mutex<Left>,
    /// Members so far, to name their savepoints in turn.
    members: usize,
    /// Members that are done and wait for the commit.
    deferred: usize,
    started: Instant,
    /// The commit's outcome, for the deferred members.
    done: watch::Sender<Option<Result<(), String>>>,
}

/// The names members' savepoints take in turn. At most two are open at a
/// time, the last member's (released with the next member's first
/// statement) and the working member's, and they differ: `ROLLBACK TO`
/// reaches only the failing member's own work, and a failing member whose
/// savepoint was never opened (its first statement never ran) finds none
/// to roll back to rather than its predecessor's.
const SAVEPOINTS: [&str; 2] = ["member_a", "member_b"];

/// What a member left of its savepoint, for the next statement on the
/// group's transaction to close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Left {
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
    fn then_open(self, savepoint: &str) -> String {
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
    async fn begin(db: &DatabaseConnection) -> Result<Self, DbErr> {
        Ok(Self {
            txn: crate::db::begin_write(db).await?,
            left: std::sync::Mutex::new(Left::Nothing),
            members: 0,
            deferred: 0,
            started: Instant::now(),
            done: watch::channel(None).0,
        })
    }

    fn leave(&self, left: Left) {
        *self.left.lock().expect("savepoint state lock") = left;
    }

    /// Takes what the last member left, for a statement to close it.
    fn take_left(&self) -> Left {
        std::mem::replace(
            &mut *self.left.lock().expect("savepoint state lock"),
            Left::Nothing,
        )
    }

    /// Commits every member's work and tells the deferred members. A
    /// failed member's work is undone first; should that fail, nothing is
    /// committed.
    async fn commit(self) -> Result<(), DbErr> {
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
    async fn commit_logged(self) {
        if let Err(error) = self.commit().await {
            tracing::error!(%error, "committing a group of SQLite writes failed");
        }
    }

    /// Whether the member leaving now may leave the commit to the next:
    /// someone is in line to join, and the group is neither full nor old.
    fn may_wait(&self, writer: &SqliteWriter) -> bool {
        writer.waiting.load(Ordering::Acquire) > 0
            && self.deferred + 1 < GROUP_MEMBERS
            && self.started.elapsed() < GROUP_AGE
    }
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

    /// Begins a write: a savepoint in the transaction the previous writer
    /// left open, or in a new one.
    ///
    /// Group commit. A commit writes every page the transaction dirtied to
    /// the WAL, and consecutive writes mostly dirty the same pages (the last
    /// leaf of each table and index they append to). A writer that finishes
    /// while another waits in line leaves the transaction open for it and
    /// waits for the commit; the last of the line (or of
    /// [`GROUP_MEMBERS`], or after [`GROUP_AGE`]) commits for all. Each
    /// writer's work stays its own: an error rolls back to its savepoint
    /// only. Nobody hears of success before the commit that makes the work
    /// durable, so a caller queues jobs and publishes events as before.
    pub async fn begin(self: &Arc<Self>, db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
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
        // `WriteTxn`'s `ConnectionTrait`).
        Ok(WriteTxn {
            txn: None,
            member: Some(Member {
                writer: self.clone(),
                group: Some(group),
                slot: Some(slot),
                savepoint,
                opened: AtomicBool::new(false),
                opening: tokio::sync::Mutex::new(()),
            }),
            held: Default::default(),
        })
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
    async fn take(self: &Arc<Self>, first: bool) -> OwnedMutexGuard<()> {
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
struct Waiting {
    writer: Arc<SqliteWriter>,
    arrived: bool,
}

impl Waiting {
    fn count(writer: &Arc<SqliteWriter>) -> Self {
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

/// A writer's place in a group, with the slot while it works.
struct Member {
    writer: Arc<SqliteWriter>,
    /// The group, while this member holds the slot.
    group: Option<Group>,
    slot: Option<OwnedMutexGuard<()>>,
    /// The member's savepoint's name.
    savepoint: &'static str,
    /// Whether the member's savepoint was opened (or its first statement
    /// was sent with it, which either opened it or failed the group).
    opened: AtomicBool,
    /// Held while the first statement is sent, so that two at once cannot
    /// both open a savepoint.
    opening: tokio::sync::Mutex<()>,
}

impl Member {
    fn group(&self) -> &Group {
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

/// Where a [`WriteTxn`]'s statements run.
enum Conn<'a> {
    Alone(&'a crate::db::Transaction),
    Group(&'a DatabaseTransaction),
}

/// Runs `$run` on `$conn`'s transaction, named `$txn`.
macro_rules! on_conn {
    ($conn:expr, |$txn:ident| $run:expr) => {
        match $conn {
            Conn::Alone($txn) => $run,
            Conn::Group($txn) => $run,
        }
    };
}

/// A write transaction. On SQLite it holds the writer slot until it
/// commits or is dropped, and is a savepoint of a group transaction.
///
/// Its savepoint costs no statement of its own: `SAVEPOINT` travels with
/// the member's first query, and what the member leaves (a release, or a
/// rollback if it failed) with the next member's first query or with the
/// group's commit. Each statement on SQLite is a hop to the connection's
/// thread and back while every other writer waits for the slot, so the
/// two a member's own `SAVEPOINT` and `RELEASE` took were two of five for
/// a `createTodo` with its event and delivery.
pub struct WriteTxn {
    /// The transaction, on databases other than SQLite.
    txn: Option<crate::db::Transaction>,
    /// `None` on databases other than SQLite.
    member: Option<Member>,
    /// Inserts held back (see [`WriteTxn::insert_later`]).
    held: std::sync::Mutex<Vec<Rows>>,
}

impl WriteTxn {
    /// A transaction of its own (databases other than SQLite).
    pub fn alone(txn: crate::db::Transaction) -> Self {
        Self {
            txn: Some(txn),
            member: None,
            held: Default::default(),
        }
    }

    /// Holds `rows` back until the next statement or the commit, whichever
    /// comes first, and writes them then, in the order they were held.
    /// Rows whose insert returns nothing the caller needs, held back, may
    /// join the statement that records the change's events (see
    /// [`crate::events::Change::commit`]).
    pub fn insert_later(&self, rows: Rows) {
        if !rows.is_empty() {
            self.held.lock().expect("held rows lock").push(rows);
        }
    }

    /// Inserts `row` and returns it as written: held back (see
    /// [`WriteTxn::insert_later`]) while no statement has run in this
    /// transaction, so that the change may still go as one statement; at
    /// once otherwise, as holding it would save nothing (and on SQLite,
    /// whose transactions are never untouched, cost an insert of its own).
    pub async fn insert_or_hold<A>(
        &self,
        row: A,
    ) -> Result<<A::Entity as EntityTrait>::Model, DbErr>
    where
        A: ActiveModelTrait
            + ActiveModelBehavior
            + TryIntoModel<<A::Entity as EntityTrait>::Model>
            + Send,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    {
        if self.untouched() {
            self.insert_later(Rows::of([row.clone()]));
            return row.try_into_model();
        }
        row.insert(self).await
    }

    /// The rows held back, no longer held.
    pub fn take_held(&self) -> Vec<Rows> {
        std::mem::take(&mut *self.held.lock().expect("held rows lock"))
    }

    /// Whether no statement has run in this transaction yet (it is not
    /// begun); on SQLite, whose writers share a group's transaction, never.
    pub fn untouched(&self) -> bool {
        self.txn.as_ref().is_some_and(|txn| txn.untouched())
    }

    /// Writes the rows held back, before any other statement.
    async fn write_held(&self) -> Result<(), DbErr> {
        for rows in self.take_held() {
            let insert = self.get_database_backend().build(&rows.insert());
            self.open_alone().await?;
            on_conn!(self.conn(), |txn| txn.execute_raw(insert).await)?;
        }
        Ok(())
    }

    /// The transaction statements run in: this one's, or the group's.
    fn conn(&self) -> Conn<'_> {
        match (&self.txn, &self.member) {
            (Some(txn), _) => Conn::Alone(txn),
            (None, Some(member)) => Conn::Group(&member.group().txn),
            (None, None) => unreachable!("a transaction is used before it commits"),
        }
    }

    /// The statements that open the member's savepoint, if it is not open
    /// yet, with a guard to hold until they are sent: two statements at
    /// once must not both open one.
    async fn opening(&self) -> Option<(tokio::sync::MutexGuard<'_, ()>, String)> {
        let member = self.member.as_ref()?;
        if member.opened.load(Ordering::Acquire) {
            return None;
        }
        let guard = member.opening.lock().await;
        if member.opened.load(Ordering::Acquire) {
            return None;
        }
        member.opened.store(true, Ordering::Release);
        Some((
            guard,
            member.group().take_left().then_open(member.savepoint),
        ))
    }

    /// Runs `statement` (a query), opening the member's savepoint in the
    /// same round trip if it is not open yet.
    async fn with_savepoint<T, F>(
        &self,
        mut statement: Statement,
        run: impl FnOnce(Statement) -> F,
    ) -> Result<T, DbErr>
    where
        F: Future<Output = Result<T, DbErr>>,
    {
        let Some((_opening, open)) = self.opening().await else {
            return run(statement).await;
        };
        statement.sql = open + &statement.sql;
        run(statement).await
    }

    /// Opens the member's savepoint with a statement of its own, before a
    /// statement whose count of changed rows is wanted: SQLite would add
    /// the last statement's count to it for each statement sent with it.
    async fn open_alone(&self) -> Result<(), DbErr> {
        if let Some((_opening, open)) = self.opening().await {
            on_conn!(self.conn(), |txn| txn.execute_unprepared(&open).await)?;
        }
        Ok(())
    }

    /// Commits, and hands SQLite's writer slot to the next writer at once,
    /// before the caller goes on to queue jobs or publish events. On SQLite
    /// it returns once the group's transaction has committed.
    pub async fn commit(mut self) -> Result<(), DbErr> {
        self.write_held().await?;
        let Some(mut member) = self.member.take() else {
            let txn = self.txn.take().expect("a transaction commits once");
            return txn.commit().await;
        };
        let mut group = member
            .group
            .take()
            .expect("a working member holds its group");
        if member.opened.load(Ordering::Acquire) {
            group.leave(Left::Release(member.savepoint));
        }
        if !group.may_wait(&member.writer) {
            let committed = group.commit().await;
            drop(member);
            return committed;
        }
        group.deferred += 1;
        let mut done = group.done.subscribe();
        *member.writer.open.lock().expect("writer group lock") = Some(group);
        drop(member);
        let outcome = done.wait_for(Option::is_some).await.map(|o| o.clone());
        match outcome {
            Ok(Some(Ok(()))) => Ok(()),
            Ok(Some(Err(error))) => Err(DbErr::Custom(format!("group commit failed: {error}"))),
            Ok(None) | Err(_) => Err(DbErr::Custom(
                "the group transaction ended without a commit".into(),
            )),
        }
    }
}

impl Drop for WriteTxn {
    fn drop(&mut self) {
        // Uncommitted: the member's work is undone before anything else
        // runs on the group's transaction (a commit the member's drop
        // starts, or the next member's first statement).
        if let Some(member) = &self.member
            && let Some(group) = &member.group
            && member.opened.load(Ordering::Acquire)
        {
            group.leave(Left::RollBack(member.savepoint));
        }
        drop(self.txn.take());
        drop(self.member.take());
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        on_conn!(self.conn(), |txn| txn.get_database_backend())
    }

    async fn execute_raw(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        self.write_held().await?;
        self.open_alone().await?;
        on_conn!(self.conn(), |txn| txn.execute_raw(statement).await)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.write_held().await?;
        self.open_alone().await?;
        on_conn!(self.conn(), |txn| txn.execute_unprepared(sql).await)
    }

    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.write_held().await?;
        self.with_savepoint(statement, |s| async move {
            on_conn!(self.conn(), |txn| txn.query_one_raw(s).await)
        })
        .await
    }

    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.write_held().await?;
        self.with_savepoint(statement, |s| async move {
            on_conn!(self.conn(), |txn| txn.query_all_raw(s).await)
        })
        .await
    }

    fn support_returning(&self) -> bool {
        on_conn!(self.conn(), |txn| txn.support_returning())
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{Arc, Mutex},
        time::Duration,
    };

    use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

    use super::{SqliteWriter, WriteTxn};

    async fn database(dir: &tempfile::TempDir) -> DatabaseConnection {
        let path = dir.path().join("group.db");
        let mut options =
            sea_orm::ConnectOptions::new(format!("sqlite://{}?mode=rwc", path.display()));
        options.max_connections(4);
        let db = Database::connect(options).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (v INTEGER NOT NULL)")
            .await
            .unwrap();
        db
    }

    async fn insert(txn: &WriteTxn, v: i64) {
        txn.execute_unprepared(&format!("INSERT INTO t (v) VALUES ({v})"))
            .await
            .unwrap();
    }

    /// An insert as a query (sea-orm's inserts on SQLite use RETURNING):
    /// a member's first one carries its savepoint.
    async fn insert_returning(txn: &WriteTxn, v: i64) -> Result<i64, sea_orm::DbErr> {
        let row = txn
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!("INSERT INTO t (v) VALUES ({v}) RETURNING v"),
            ))
            .await?
            .expect("RETURNING gives the row");
        row.try_get_by_index(0)
    }

    /// The committed rows, read beside the writers.
    async fn committed(db: &DatabaseConnection) -> Vec<i64> {
        let rows = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT v FROM t ORDER BY v",
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|row| row.try_get_by_index(0).unwrap())
            .collect()
    }

    /// `task`'s result, failing the test rather than hanging it when a
    /// group is never committed.
    async fn within<T>(task: tokio::task::JoinHandle<T>) -> T {
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the group was left open")
            .unwrap()
    }

    /// A database, its writer, and a first writer holding the slot that
    /// has written 1 (the directory must outlive the database).
    async fn first_writer() -> (
        tempfile::TempDir,
        DatabaseConnection,
        Arc<SqliteWriter>,
        WriteTxn,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = database(&dir).await;
        let writer = Arc::new(SqliteWriter::default());
        let first = writer.begin(&db).await.unwrap();
        insert(&first, 1).await;
        (dir, db, writer, first)
    }

    /// Starts a writer that joins the line, then waits for `go` before it
    /// writes `v` and (if `commits`) commits; returns once it is in line.
    async fn next_writer(
        writer: &Arc<SqliteWriter>,
        db: &DatabaseConnection,
        v: i64,
        commits: bool,
    ) -> (
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<Result<(), sea_orm::DbErr>>,
    ) {
        let (go, went) = tokio::sync::oneshot::channel();
        let (writer2, db) = (writer.clone(), db.clone());
        let task = tokio::spawn(async move {
            let txn = writer2.begin(&db).await?;
            went.await.unwrap();
            insert(&txn, v).await;
            match commits {
                true => txn.commit().await,
                false => Ok(()),
            }
        });
        while writer.waiting.load(std::sync::atomic::Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        (go, task)
    }

    #[tokio::test]
    async fn a_writer_with_another_in_line_leaves_the_commit_to_it() {
        let (_dir, db, writer, first) = first_writer().await;
        let (go, second) = next_writer(&writer, &db, 2, true).await;
        let first = tokio::spawn(first.commit());
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The first released its savepoint and waits for the second.
        assert!(!first.is_finished());
        assert_eq!(committed(&db).await, Vec::<i64>::new());
        go.send(()).unwrap();
        within(second).await.unwrap();
        within(first).await.unwrap();
        assert_eq!(committed(&db).await, [1, 2]);
    }

    #[tokio::test]
    async fn a_writer_that_fails_rolls_back_alone_and_commits_for_the_others() {
        let (_dir, db, writer, first) = first_writer().await;
        let (go, second) = next_writer(&writer, &db, 2, false).await;
        let first = tokio::spawn(first.commit());
        go.send(()).unwrap();
        // The second wrote, then dropped its transaction uncommitted.
        within(second).await.unwrap();
        within(first).await.unwrap();
        assert_eq!(committed(&db).await, [1]);
        // The slot is free again, for a write of its own.
        let third = writer.begin(&db).await.unwrap();
        insert(&third, 3).await;
        third.commit().await.unwrap();
        assert_eq!(committed(&db).await, [1, 3]);
    }

    #[tokio::test]
    async fn savepoints_travel_with_queries_and_still_undo_only_their_member() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(&dir).await;
        db.execute_unprepared("CREATE UNIQUE INDEX t_v ON t (v)")
            .await
            .unwrap();
        let writer = Arc::new(SqliteWriter::default());
        // Twice, a member that succeeds and leaves the commit to the next,
        // then one that fails: after writing, then on its first statement.
        for (good, fails_after) in [(1, Some(2)), (3, None)] {
            let member = writer.begin(&db).await.unwrap();
            assert_eq!(insert_returning(&member, good).await.unwrap(), good);
            let stand_in = super::Waiting::count(&writer);
            let member = tokio::spawn(member.commit());
            let failing = writer.begin(&db).await.unwrap();
            if let Some(v) = fails_after {
                assert_eq!(insert_returning(&failing, v).await.unwrap(), v);
            }
            assert!(insert_returning(&failing, good).await.is_err());
            drop(stand_in);
            drop(failing);
            within(member).await.unwrap();
        }
        assert_eq!(committed(&db).await, [1, 3]);
    }

    #[tokio::test]
    async fn a_member_whose_savepoint_never_opened_leaves_the_last_ones_work() {
        let (_dir, db, writer, first) = first_writer().await;
        let (stand_in, first) = deferred_to_a_stand_in(&writer, first).await;
        let second = writer.begin(&db).await.unwrap();
        // As if its first statement had been sent and then dropped before
        // it reached SQLite: there is no savepoint of its own to roll back
        // to, and the one before it (the first member's) must not be used.
        let member = second.member.as_ref().unwrap();
        member
            .opened
            .store(true, std::sync::atomic::Ordering::Release);
        drop(stand_in);
        drop(second);
        within(first).await.unwrap();
        assert_eq!(committed(&db).await, [1]);
    }

    /// A first writer that left the commit to a writer in line, and a
    /// stand-in for that writer, counted in line until dropped.
    async fn deferred_to_a_stand_in(
        writer: &Arc<SqliteWriter>,
        first: WriteTxn,
    ) -> (
        super::Waiting,
        tokio::task::JoinHandle<Result<(), sea_orm::DbErr>>,
    ) {
        let stand_in = super::Waiting::count(writer);
        let first = tokio::spawn(first.commit());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!first.is_finished());
        (stand_in, first)
    }

    #[tokio::test]
    async fn a_write_outside_the_group_commits_the_group_first() {
        let (_dir, db, writer, first) = first_writer().await;
        let (mut stand_in, first) = deferred_to_a_stand_in(&writer, first).await;
        // A lease, first past the line: SQLite's write lock is the group's
        // until the group commits, so taking the slot commits it.
        let slot = writer.take_alone(true).await;
        within(first).await.unwrap();
        assert_eq!(committed(&db).await, [1]);
        db.execute_unprepared("INSERT INTO t (v) VALUES (10)")
            .await
            .unwrap();
        drop(slot);
        stand_in.arrived = true;
        assert_eq!(committed(&db).await, [1, 10]);
    }

    #[tokio::test]
    async fn a_writer_that_leaves_the_line_still_gets_the_group_committed() {
        let (_dir, db, writer, first) = first_writer().await;
        let (stand_in, first) = deferred_to_a_stand_in(&writer, first).await;
        drop(stand_in);
        within(first).await.unwrap();
        assert_eq!(committed(&db).await, [1]);
    }

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
