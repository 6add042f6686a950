//! A write transaction: on SQLite a member of a group transaction under
//! the one writer's slot, elsewhere a transaction of its own, begun at its
//! first statement.

use std::sync::atomic::Ordering;

use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, ExecResult, IntoActiveModel, QueryResult, Statement, TryIntoModel,
    sea_query::{LockType, SelectStatement},
};

use super::{
    Rows, Script,
    pool::{LazyTxn, Pool},
    sqlite::{Left, Member},
};

/// Where a [`Txn`]'s statements run.
enum Conn<'a> {
    Alone(&'a LazyTxn),
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
pub struct Txn {
    /// The transaction, on databases other than SQLite, and the pool its
    /// writes run on when they go as one statement of their own.
    txn: Option<(LazyTxn, Pool)>,
    /// `None` on databases other than SQLite.
    pub(crate) member: Option<Member>,
    /// Inserts held back (see [`Txn::insert_later`]).
    held: std::sync::Mutex<Vec<Rows>>,
}

impl Txn {
    /// A transaction of its own (databases other than SQLite); `statements`
    /// runs what goes as one statement of its own (see [`Txn::run_alone`]).
    pub(super) fn alone(txn: LazyTxn, statements: Pool) -> Self {
        Self {
            txn: Some((txn, statements)),
            member: None,
            held: Default::default(),
        }
    }

    /// A member of a group transaction (SQLite).
    pub(super) fn in_group(member: Member) -> Self {
        Self {
            txn: None,
            member: Some(member),
            held: Default::default(),
        }
    }

    /// Holds `rows` back until the next statement or the commit, whichever
    /// comes first, and writes them then, in the order they were held.
    /// Rows whose insert returns nothing the caller needs, held back, may
    /// join the statement that records the change's events (see
    /// [`crate::domain::change::Change::commit`]).
    fn insert_later(&self, rows: Rows) {
        if !rows.is_empty() {
            self.held.lock().expect("held rows lock").push(rows);
        }
    }

    /// Inserts `row` and returns it as written: held back (see
    /// [`Txn::insert_later`]) while no statement has run in this
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
    fn take_held(&self) -> Vec<Rows> {
        std::mem::take(&mut *self.held.lock().expect("held rows lock"))
    }

    /// Whether no statement has run in this transaction yet (it is not
    /// begun), so that rows held back now may still go with the change's
    /// last statement as one (see [`Txn::run_alone`]); on SQLite, whose
    /// writers share a group's transaction, never.
    pub fn untouched(&self) -> bool {
        self.txn.as_ref().is_some_and(|(txn, _)| txn.untouched())
    }

    /// Runs the script `build` makes of the rows held back, as one
    /// statement that commits on its own, if this transaction has run no
    /// statement yet and its database writes such a script atomically
    /// (PostgreSQL). `wrote` tells from the script's result whether it
    /// wrote; if so the held rows are written, and the transaction has
    /// nothing left to commit. `None`: the script did not run (or `build`
    /// made none), and the held rows stay held.
    pub async fn run_alone(
        &self,
        build: impl FnOnce(&[Rows]) -> Option<Script>,
        wrote: impl FnOnce(&Option<QueryResult>) -> bool,
    ) -> Result<Option<Option<QueryResult>>, DbErr> {
        let Some((_, statements)) = self.txn.as_ref().filter(|(txn, _)| txn.untouched()) else {
            return Ok(None);
        };
        let held = self.take_held();
        let Some(script) = build(&held) else {
            self.hold_again(held);
            return Ok(None);
        };
        let statement = script.build(statements.get_database_backend());
        let result = statements.query_one_raw(statement).await;
        if !result.as_ref().is_ok_and(wrote) {
            self.hold_again(held);
        }
        result.map(Some)
    }

    fn hold_again(&self, held: Vec<Rows>) {
        let mut now = self.held.lock().expect("held rows lock");
        let later = std::mem::replace(&mut *now, held);
        now.extend(later);
    }

    /// Makes transactions that lock the same rows run one after the other,
    /// whatever else they touch: on PostgreSQL `rows` are locked as `kind`
    /// until the commit. SQLite's writes run one at a time anyway, so there
    /// it sends nothing.
    pub async fn lock(&self, mut rows: SelectStatement, kind: LockType) -> Result<(), DbErr> {
        if self.member.is_some() {
            return Ok(());
        }
        rows.lock(kind);
        self.query_all(&rows).await.map(drop)
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
            (Some((txn, _)), _) => Conn::Alone(txn),
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
            let (txn, _) = self.txn.take().expect("a transaction commits once");
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

impl Drop for Txn {
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
impl ConnectionTrait for Txn {
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
