//! Connections for statements that run on their own, outside any
//! transaction: the reads of every request, and the delivery workers'
//! single-statement writes.
//!
//! sqlx pings each connection handed back to its pool (sqlx-core 0.9
//! offers no way out), and sea-orm hands one back after every statement
//! run outside a transaction. On PostgreSQL that ping is a second round
//! trip to the server per statement; on SQLite a second hop to the
//! connection's thread and back. The ping exists to catch a connection
//! left mid-statement by a cancelled future; here such a connection is
//! never reused instead: it is marked before each statement and cleared
//! once the statement has finished, and the pool drops a marked connection
//! rather than lend it again.
//!
//! A pool of its own also serves PostgreSQL's write transactions
//! ([`Statements::begin`]), begun and ended with plain `BEGIN` and `COMMIT`
//! for the same reason. A transaction takes its connection and sends
//! `BEGIN` only at its first statement, so a change that runs none can
//! still go as one statement that commits on its own (see
//! [`crate::events::Change::commit`]). SQLite's go through its one writer
//! ([`crate::writer`]) on sqlx's pool.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use futures_util::future::BoxFuture;
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult,
    RuntimeErr, Statement,
    sea_query::Values,
    sqlx::{self, Executor, postgres::PgConnectOptions, sqlite::SqliteConnectOptions},
};
use sea_query_sqlx::SqlxValues;

/// A pool of connections for single statements; cheap to clone.
#[derive(Clone)]
pub struct Statements {
    pool: Pool,
    returning: bool,
    /// Statements run so far, for tests that count them.
    run: Arc<AtomicU64>,
}

#[derive(Clone)]
enum Pool {
    Sqlite(managed::Pool<Connect<SqliteConnectOptions>>),
    Postgres(managed::Pool<Connect<PgConnectOptions>>),
}

/// A connection lent by a [`Pool`], held for a transaction.
enum Object {
    Sqlite(managed::Object<Connect<SqliteConnectOptions>>),
    Postgres(managed::Object<Connect<PgConnectOptions>>),
}

/// Opens connections with the options sqlx's pool of the same database
/// uses (SQLite's WAL and pragmas, PostgreSQL's URL), then runs `setup`
/// on each.
struct Connect<O: sqlx::ConnectOptions> {
    options: O,
    setup: Option<Setup<O::Connection>>,
    /// The runtime the pool was made on, where every connection is opened.
    /// A socket belongs to the runtime it was opened on; actix-web serves
    /// each HTTP worker thread from a runtime of its own, stopped at
    /// shutdown, so a connection first opened for a request would lose its
    /// socket while the delivery workers, on this runtime, still finish
    /// their attempts with it (every outcome then failed to record).
    runtime: tokio::runtime::Handle,
}

type Setup<C> = for<'c> fn(&'c mut C) -> BoxFuture<'c, Result<(), sqlx::Error>>;

/// A pooled connection, and whether a statement started on it has not
/// finished (its future was dropped, or it failed below the database).
struct Lent<C> {
    conn: C,
    unsettled: bool,
}

impl<O> managed::Manager for Connect<O>
where
    O: sqlx::ConnectOptions,
    O::Connection: Sized + Send,
{
    type Type = Lent<O::Connection>;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Self::Type, sqlx::Error> {
        let (options, setup) = (self.options.clone(), self.setup);
        let conn = self
            .runtime
            .spawn(async move {
                let mut conn = options.connect().await?;
                if let Some(setup) = setup {
                    setup(&mut conn).await?;
                }
                Ok::<_, sqlx::Error>(conn)
            })
            .await
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))??;
        Ok(Lent {
            conn,
            unsettled: false,
        })
    }

    async fn recycle(&self, lent: &mut Self::Type, _: &Metrics) -> RecycleResult<sqlx::Error> {
        if lent.unsettled {
            return Err(RecycleError::message("a statement on it did not finish"));
        }
        Ok(())
    }
}

/// Runs `$run` on the [`Lent`] connection `$object` holds, named `$lent`.
macro_rules! on_object {
    ($object:expr, |$lent:ident| $run:expr) => {{
        match $object {
            Object::Sqlite($lent) => $run,
            Object::Postgres($lent) => $run,
        }
    }};
}

impl Statements {
    /// A pool of at most `size` connections (at least one) to the database
    /// `db` is connected to, opened as they are first needed.
    pub fn new(db: &DatabaseConnection, size: usize) -> Self {
        fn pool<O>(connect: Connect<O>, size: usize) -> managed::Pool<Connect<O>>
        where
            O: sqlx::ConnectOptions,
            O::Connection: Sized + Send,
        {
            let pool = managed::Pool::builder(connect)
                .max_size(size.max(1))
                // As long as sqlx's pool waits for a connection (db::connect).
                .wait_timeout(Some(Duration::from_secs(10)))
                .create_timeout(Some(Duration::from_secs(10)))
                .runtime(deadpool::Runtime::Tokio1)
                .build()
                .expect("a runtime is given for the timeouts");
            tokio::spawn(prune_forever(pool.weak()));
            pool
        }
        let pool = match db.get_database_backend() {
            DbBackend::Sqlite => Pool::Sqlite(pool(
                Connect {
                    options: (*db.get_sqlite_connection_pool().connect_options()).clone(),
                    setup: None,
                    runtime: tokio::runtime::Handle::current(),
                },
                size,
            )),
            _ => Pool::Postgres(pool(
                Connect {
                    options: (*db.get_postgres_connection_pool().connect_options()).clone(),
                    // Every statement here is prepared once per connection
                    // and cached, but PostgreSQL still plans it anew at each
                    // run while the plan depends on the values bound (its
                    // first five runs, and every run of a text the cache
                    // evicted first: a batch's text changes with its
                    // length). Here every such plan is an index lookup or
                    // an insert whatever the values, so the plan made at the
                    // first run serves them all. Statements that must find a
                    // partial index write its condition out instead of
                    // binding it (`outbox::status_is`).
                    // Whole-table scans are off too: a plan made while a
                    // table was small (a new deployment's, or a benchmark's)
                    // would otherwise scan it whole for as long as the
                    // connection lives, however large it grows; a fan-out's
                    // leases and settlings each read every delivery so. A
                    // table with no index the query can use is still
                    // scanned. SETs rather than the startup packet's
                    // `options`, which poolers such as PgBouncer refuse.
                    setup: Some(|conn| {
                        Box::pin(async move {
                            conn.execute(
                                "SET plan_cache_mode = force_generic_plan; \
                                 SET enable_seqscan = off",
                            )
                            .await
                            .map(drop)
                        })
                    }),
                    runtime: tokio::runtime::Handle::current(),
                },
                size,
            )),
        };
        Self {
            pool,
            returning: db.support_returning(),
            run: Arc::default(),
        }
    }

    fn backend(&self) -> DbBackend {
        match self.pool {
            Pool::Sqlite(_) => DbBackend::Sqlite,
            Pool::Postgres(_) => DbBackend::Postgres,
        }
    }

    /// How many statements have run through this pool (and its clones).
    pub fn run(&self) -> u64 {
        self.run.load(Ordering::Relaxed)
    }

    /// A transaction on a connection of this pool. Nothing is sent yet: its
    /// first statement takes the connection and begins it (see
    /// [`Transaction::untouched`]), and the connection is held until the
    /// transaction commits or is dropped (then rolled back).
    pub fn begin(&self) -> Transaction {
        Transaction {
            pool: self.pool.clone(),
            lent: tokio::sync::Mutex::new(None),
            backend: self.backend(),
            returning: self.returning,
        }
    }
}

/// A transaction on a connection lent by [`Statements::begin`].
pub struct Transaction {
    pool: Pool,
    /// `None` until the first statement (and once committed or dropped).
    lent: tokio::sync::Mutex<Option<Object>>,
    backend: DbBackend,
    returning: bool,
}

impl Transaction {
    fn backend(&self) -> DbBackend {
        self.backend
    }

    /// Whether no statement has run in it yet: it holds no connection, and
    /// the work it was begun for may still go as one statement that
    /// commits on its own.
    pub fn untouched(&self) -> bool {
        self.lent.try_lock().is_ok_and(|lent| lent.is_none())
    }

    /// Takes a connection and begins the transaction on it.
    async fn open(&self) -> Result<Object, DbErr> {
        let mut object = match &self.pool {
            Pool::Sqlite(pool) => Object::Sqlite(pool.get().await.map_err(pool_error)?),
            Pool::Postgres(pool) => Object::Postgres(pool.get().await.map_err(pool_error)?),
        };
        // Unsettled until the transaction has ended: a connection whose
        // BEGIN failed, or dropped with a transaction open that its
        // ROLLBACK could not end, is closed rather than lent again.
        on_object!(&mut object, |lent| {
            lent.unsettled = true;
            lent.conn.execute("BEGIN").await.map(drop)
        })
        .map_err(exec_error)?;
        Ok(object)
    }

    /// Commits; the connection goes back to its pool if the commit got an
    /// answer from the database, whatever it was. With no statement run,
    /// there is nothing to commit.
    pub async fn commit(mut self) -> Result<(), DbErr> {
        let Some(mut object) = self.lent.get_mut().take() else {
            return Ok(());
        };
        on_object!(&mut object, |lent| {
            let committed = lent.conn.execute("COMMIT").await;
            lent.unsettled = !settles(&committed);
            committed.map(drop).map_err(exec_error)
        })
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        // Not committed: rolled back off the caller's path, then handed
        // back. Without a runtime to do it on, the connection is closed.
        let Some(mut object) = self.lent.get_mut().take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                on_object!(&mut object, |lent| {
                    let rolled_back = lent.conn.execute("ROLLBACK").await;
                    lent.unsettled = rolled_back.is_err();
                });
            });
        }
    }
}

/// Runs `$run` on the connection `$txn` holds, named `$conn`, begun at
/// the transaction's first statement. (A transaction gives its connection
/// up only as it ends, by value.)
macro_rules! in_transaction {
    ($txn:expr, |$conn:ident| $run:expr) => {{
        let mut held = $txn.lent.lock().await;
        if held.is_none() {
            *held = Some($txn.open().await?);
        }
        let object = held.as_mut().expect("opened just now");
        on_object!(object, |lent| {
            let $conn = &mut lent.conn;
            $run
        })
    }};
}

/// sqlx's pool's defaults, kept: a connection idle this long is closed,
/// so a burst's connections do not stay open on the database server...
const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// ...and one this old is replaced, so a server process's per-connection
/// caches do not grow for the life of the pool.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Closes idle connections past [`IDLE_TIMEOUT`] or [`MAX_LIFETIME`] once
/// a minute, until the pool is dropped.
async fn prune_forever<M: managed::Manager>(pool: managed::WeakPool<M>) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(pool) = pool.upgrade() else { return };
        prune(&pool, IDLE_TIMEOUT, MAX_LIFETIME);
    }
}

/// Closes the idle connections unused for `idle` or older than `lifetime`.
fn prune<M: managed::Manager>(pool: &managed::Pool<M>, idle: Duration, lifetime: Duration) {
    pool.retain(|_, used| used.last_used() < idle && used.age() < lifetime);
}

/// How many values a statement may bind and still be kept prepared on a
/// connection of this database (see [`query`]).
trait KeptPrepared {
    const MAX_VALUES: usize;
}

impl KeptPrepared for sqlx::Sqlite {
    const MAX_VALUES: usize = 64;
}

impl KeptPrepared for sqlx::Postgres {
    const MAX_VALUES: usize = usize::MAX;
}

/// sea-orm's statement as sqlx's query, bound to its values. Taken whole:
/// sqlx copies SQL it is lent, and the values would be cloned.
///
/// sqlx keeps each statement prepared on its connection (up to 100), and
/// a SQLite statement prepared lives in this process's memory. Multi-row
/// statements, such as a batch of delivery outcomes, take a new shape for
/// each row count; kept, a fan-out's drain filled every connection's cache
/// with them: the server's memory grew by about 40 MiB while its backlog
/// shrank, and stayed there. On SQLite such statements run once prepared
/// and are then dropped. PostgreSQL keeps its prepared statements in its
/// own processes, and a change's one statement, which binds every
/// delivery it owes, gains from staying prepared there (see README,
/// the twenty-third machine).
fn query<D>(statement: Statement) -> sqlx::query::Query<'static, D, SqlxValues>
where
    D: sqlx::Database + sqlx::database::HasStatementCache + KeptPrepared,
    SqlxValues: for<'q> sqlx::IntoArguments<D>,
{
    let values = statement.values.unwrap_or(Values(Vec::new()));
    let keep = values.0.len() <= D::MAX_VALUES;
    sqlx::query_with(sqlx::AssertSqlSafe(statement.sql), SqlxValues(values)).persistent(keep)
}

/// Runs `$run` on a connection of `$statements`' pool, named `$conn`; one
/// expression for both databases, whose connection types differ.
macro_rules! on_connection {
    ($statements:expr, |$conn:ident| $run:expr) => {{
        $statements.run.fetch_add(1, Ordering::Relaxed);
        match &$statements.pool {
            Pool::Sqlite(pool) => on_lent!(pool, |$conn| $run),
            Pool::Postgres(pool) => on_lent!(pool, |$conn| $run),
        }
    }};
}

/// Runs `$run` on a connection lent by `$pool`, marked unsettled until
/// the statement's outcome says it may be lent again.
macro_rules! on_lent {
    ($pool:expr, |$conn:ident| $run:expr) => {{
        let mut lent = $pool.get().await.map_err(pool_error)?;
        lent.unsettled = true;
        let $conn = &mut lent.conn;
        let result = $run;
        lent.unsettled = !settles(&result);
        result
    }};
}

/// Whether a statement's outcome leaves its connection fit to lend again:
/// the database's own refusals (a constraint, no such row) do; an I/O or
/// protocol error may have left it anywhere. So may PostgreSQL's errors of
/// classes 08 (connection exception) and 57 (operator intervention): a
/// server shutting down or restarting answers each connection's next
/// statement with 57P01 and then closes it, and sqlx's ping on hand-back
/// used to catch that.
fn settles<T>(result: &Result<T, sqlx::Error>) -> bool {
    match result {
        Ok(_) | Err(sqlx::Error::RowNotFound) => true,
        Err(sqlx::Error::Database(error)) => !error
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some_and(|error| matches!(&error.code()[..2], "08" | "57")),
        Err(_) => false,
    }
}

/// As sea-orm reports sqlx's pool's failures, so that callers (and
/// [`crate::error`]'s 503 for a pool that timed out) need not tell the
/// pools apart.
fn pool_error(error: managed::PoolError<sqlx::Error>) -> DbErr {
    match error {
        managed::PoolError::Backend(error) => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(error))),
        managed::PoolError::Timeout(_) => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        managed::PoolError::Closed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        other => DbErr::Conn(RuntimeErr::Internal(other.to_string())),
    }
}

fn query_error(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
}

fn exec_error(error: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error)))
}

/// sea-orm's `ConnectionTrait` for `$type`, whose statements run on the
/// connection `$lend!` lends: the same for single statements and for a
/// transaction's.
macro_rules! connection_trait {
    ($type:ty, $lend:ident) => {
        #[async_trait::async_trait]
        impl ConnectionTrait for $type {
            fn get_database_backend(&self) -> DbBackend {
                self.backend()
            }

            async fn execute_raw(&self, statement: Statement) -> Result<ExecResult, DbErr> {
                $lend!(self, |conn| query(statement)
                    .execute(&mut *conn)
                    .await
                    .map(ExecResult::from))
                .map_err(exec_error)
            }

            async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
                $lend!(self, |conn| conn
                    .execute(sqlx::AssertSqlSafe(sql.to_owned()))
                    .await
                    .map(ExecResult::from))
                .map_err(exec_error)
            }

            async fn query_one_raw(
                &self,
                statement: Statement,
            ) -> Result<Option<QueryResult>, DbErr> {
                $lend!(self, |conn| query(statement)
                    .fetch_optional(&mut *conn)
                    .await
                    .map(|row| row.map(QueryResult::from)))
                .map_err(query_error)
            }

            async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
                $lend!(self, |conn| query(statement)
                    .fetch_all(&mut *conn)
                    .await
                    .map(|rows| rows.into_iter().map(QueryResult::from).collect()))
                .map_err(query_error)
            }

            fn support_returning(&self) -> bool {
                self.returning
            }
        }
    };
}

connection_trait!(Statements, on_connection);
connection_trait!(Transaction, in_transaction);

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sea_orm::{ConnectionTrait, Database, DbBackend, QueryResult, Statement};

    use super::{Pool, Statements, prune};

    /// A pool of one SQLite connection, marked by a temporary table that
    /// only that connection sees.
    async fn one_marked_connection(dir: &tempfile::TempDir) -> Statements {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = Database::connect(&url).await.unwrap();
        let statements = Statements::new(&db, 1);
        statements
            .execute_unprepared("CREATE TEMP TABLE mark (x INTEGER)")
            .await
            .unwrap();
        statements
    }

    async fn marked(statements: &Statements) -> bool {
        statements
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT count(*) FROM mark",
            ))
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_connection_is_lent_again_after_its_statement_finished_or_was_refused() {
        let dir = tempfile::tempdir().unwrap();
        let statements = one_marked_connection(&dir).await;
        assert!(marked(&statements).await);
        let refused = statements
            .execute_unprepared("INSERT INTO no_such_table VALUES (1)")
            .await;
        assert!(refused.is_err());
        assert!(marked(&statements).await, "the same connection again");
        assert_eq!(statements.run(), 4);
    }

    #[tokio::test]
    async fn a_connection_whose_statement_was_cut_off_is_not_lent_again() {
        let dir = tempfile::tempdir().unwrap();
        let statements = one_marked_connection(&dir).await;
        // Counting to fifty million takes SQLite seconds; the caller gives
        // up after 20 ms, dropping the statement's future halfway.
        let slow = statements.query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000000) \
             SELECT count(*) FROM n",
        ));
        assert!(
            tokio::time::timeout(Duration::from_millis(20), slow)
                .await
                .is_err()
        );
        // The pool opened a new connection, which has no mark.
        assert!(!marked(&statements).await);
        assert!(statements.execute_unprepared("SELECT 1").await.is_ok());
    }

    /// The values of table `t`, read on the pool.
    async fn values(statements: &Statements) -> Vec<i64> {
        statements
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT v FROM t ORDER BY v",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index(0).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn a_transaction_commits_or_is_rolled_back_and_its_connection_is_lent_again() {
        let dir = tempfile::tempdir().unwrap();
        let statements = one_marked_connection(&dir).await;
        statements
            .execute_unprepared("CREATE TABLE t (v INTEGER)")
            .await
            .unwrap();
        // Begun, it holds no connection until its first statement: the
        // pool's one connection still serves others.
        let dropped = statements.begin();
        assert!(dropped.untouched());
        assert!(marked(&statements).await);
        dropped
            .execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        assert!(!dropped.untouched());
        drop(dropped);
        // The pool's one connection comes back once rolled back: a second
        // BEGIN on it would fail were the first transaction still open.
        let committed = statements.begin();
        committed
            .execute_unprepared("INSERT INTO t VALUES (2)")
            .await
            .unwrap();
        committed.commit().await.unwrap();
        // One that never ran a statement commits nothing, and needs none.
        statements.begin().commit().await.unwrap();
        assert_eq!(values(&statements).await, [2]);
        assert!(marked(&statements).await, "the same connection throughout");
    }

    #[tokio::test]
    async fn connections_idle_too_long_or_too_old_are_closed() {
        let dir = tempfile::tempdir().unwrap();
        let statements = one_marked_connection(&dir).await;
        let Pool::Sqlite(pool) = &statements.pool else {
            unreachable!()
        };
        let (minute, instant) = (Duration::from_secs(60), Duration::ZERO);
        prune(pool, minute, minute);
        assert_eq!(pool.status().size, 1, "used just now, and young");
        assert!(marked(&statements).await);
        prune(pool, instant, minute);
        assert_eq!(pool.status().size, 0, "idle past the idle timeout");
        assert!(!marked(&statements).await);
        prune(pool, minute, instant);
        assert_eq!(pool.status().size, 0, "older than the lifetime");
        assert!(!marked(&statements).await);
    }

    /// A PostgreSQL server ending a connection (as on a restart) fails the
    /// statement that meets it, and only that one. Runs when
    /// TEST_DATABASE_URL names a PostgreSQL server.
    #[tokio::test]
    async fn a_connection_postgresql_ended_is_not_lent_again() {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            return;
        };
        let db = Database::connect(&url).await.unwrap();
        let statements = Statements::new(&db, 1);
        let backend = || async {
            statements
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT pg_backend_pid()",
                ))
                .await
                .map(|row| row.unwrap().try_get_by_index::<i32>(0).unwrap())
        };
        let first = backend().await.unwrap();
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_terminate_backend($1)",
            [first.into()],
        ))
        .await
        .unwrap();
        assert!(backend().await.is_err(), "the ended connection's statement");
        let next = backend().await.expect("a new connection");
        assert_ne!(next, first);
    }

    /// Statements on PostgreSQL keep the plan made at their first run
    /// (see [`Statements::new`]), and that plan looks rows up by index
    /// even when it was made while the table was small: a lookup planned
    /// on a one-row table does not scan the table whole once it has grown.
    /// sqlx's own pool keeps the server's defaults. Runs when
    /// TEST_DATABASE_URL names a PostgreSQL server.
    #[tokio::test]
    async fn statements_on_postgresql_are_planned_once_for_an_index() {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            return;
        };
        let db = Database::connect(&url).await.unwrap();
        let show = Statement::from_string(DbBackend::Postgres, "SHOW plan_cache_mode");
        let text = |row: Option<QueryResult>| row.unwrap().try_get_by_index::<String>(0).unwrap();
        // One connection: the temporary table is its own.
        let statements = Statements::new(&db, 1);
        let here = text(statements.query_one_raw(show.clone()).await.unwrap());
        assert_eq!(here, "force_generic_plan");
        assert_eq!(text(db.query_one_raw(show).await.unwrap()), "auto");

        let sql = |sql: &str| Statement::from_string(DbBackend::Postgres, sql);
        for setup in [
            "CREATE TEMPORARY TABLE planned (id text PRIMARY KEY, n integer)",
            "INSERT INTO planned VALUES ('a', 1)",
            // Statistics that say the table is one row, as a new
            // deployment's tables are when its connections first plan.
            "ANALYZE planned",
        ] {
            statements.execute_raw(sql(setup)).await.unwrap();
        }
        let lookup = || {
            Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT n FROM planned WHERE id = $1",
                ["a".into()],
            )
        };
        statements.query_one_raw(lookup()).await.unwrap();
        statements
            .execute_raw(sql(
                "INSERT INTO planned SELECT 'row ' || i, i FROM generate_series(1, 10000) i",
            ))
            .await
            .unwrap();
        let row = statements.query_one_raw(lookup()).await.unwrap().unwrap();
        assert_eq!(row.try_get_by_index::<i32>(0).unwrap(), 1);
        // This connection's table statistics, sent now rather than within
        // the next second.
        statements
            .query_one_raw(sql("SELECT pg_stat_force_next_flush()"))
            .await
            .unwrap();
        let scans = statements
            .query_one_raw(sql(
                "SELECT idx_scan, seq_tup_read FROM pg_stat_user_tables \
                 WHERE relid = 'planned'::regclass",
            ))
            .await
            .unwrap()
            .unwrap();
        // The index counts the lookups: the statistics did arrive.
        assert!(
            scans.try_get_by_index::<i64>(0).unwrap() >= 1,
            "index scans"
        );
        let read = scans.try_get_by_index::<i64>(1).unwrap();
        assert_eq!(read, 0, "rows read by whole-table scans");
    }
}
