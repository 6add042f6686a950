//! Connections lent without sqlx's ping: one pool for statements that run
//! on their own (every read, single-statement writes), and on PostgreSQL
//! another for write transactions ([`LazyTxn`]).
//!
//! sqlx pings each connection handed back to its pool (sqlx-core 0.9
//! offers no way out), and sea-orm hands one back after every statement
//! run outside a transaction: on PostgreSQL a second round trip per
//! statement, on SQLite a second hop to the connection's thread and back.
//! The ping exists to catch a connection left mid-statement by a cancelled
//! future; here such a connection is never reused instead: it is marked
//! before each statement and cleared once the statement has finished, and
//! the pool drops a marked connection rather than lend it again.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use deadpool::managed;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, Statement,
    sqlx::{self, Executor, postgres::PgConnectOptions, sqlite::SqliteConnectOptions},
};

use connect::{Connect, exec_error, pool_error, prune_forever, query, query_error, settles};
pub use connect::{Failures, connection_lost};
pub use lazy::LazyTxn;

/// A pool of connections for single statements; cheap to clone.
#[derive(Clone)]
pub struct Pool {
    connections: Connections,
    returning: bool,
    /// Statements run so far, for tests that count them.
    run: Arc<AtomicU64>,
}

#[derive(Clone)]
enum Connections {
    Sqlite(managed::Pool<Connect<SqliteConnectOptions>>),
    Postgres(managed::Pool<Connect<PgConnectOptions>>),
}

impl Connections {
    fn record_failure(&self) {
        match self {
            Connections::Sqlite(pool) => pool.manager().failures.record(),
            Connections::Postgres(pool) => pool.manager().failures.record(),
        }
    }
}

/// A connection lent by a [`Pool`], held for a transaction.
enum Object {
    Sqlite(managed::Object<Connect<SqliteConnectOptions>>),
    Postgres(managed::Object<Connect<PgConnectOptions>>),
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

/// Runs `$run` on a connection of `$statements`' pool, named `$conn`; one
/// expression for both databases, whose connection types differ.
macro_rules! on_connection {
    ($statements:expr, |$conn:ident| $run:expr) => {{
        $statements.run.fetch_add(1, Ordering::Relaxed);
        match &$statements.connections {
            Connections::Sqlite(pool) => on_lent!(pool, |$conn| $run),
            Connections::Postgres(pool) => on_lent!(pool, |$conn| $run),
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
        if lent.unsettled {
            $pool.manager().failures.record();
        }
        result
    }};
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

mod connect;
mod lazy;
#[cfg(test)]
mod tests;

connection_trait!(Pool, on_connection);

impl Pool {
    /// A pool of at most `size` connections (at least one) to the database
    /// `db` is connected to, opened as they are first needed. Pools given
    /// the same `failures` learn from each other's dead connections.
    pub fn new(db: &DatabaseConnection, size: usize, failures: &Failures) -> Self {
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
            DbBackend::Sqlite => Connections::Sqlite(pool(
                Connect {
                    options: (*db.get_sqlite_connection_pool().connect_options()).clone(),
                    setup: None,
                    runtime: tokio::runtime::Handle::current(),
                    failures: failures.clone(),
                },
                size,
            )),
            _ => Connections::Postgres(pool(
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
                    // Tables that grow fast get fresh statistics, and so
                    // fresh plans, as they grow (`db::statistics`).
                    setup: Some(|conn| {
                        Box::pin(async move {
                            conn.execute("SET plan_cache_mode = force_generic_plan")
                                .await
                                .map(drop)
                        })
                    }),
                    runtime: tokio::runtime::Handle::current(),
                    failures: failures.clone(),
                },
                size,
            )),
        };
        Self {
            connections: pool,
            returning: db.support_returning(),
            run: Arc::default(),
        }
    }

    fn backend(&self) -> DbBackend {
        match self.connections {
            Connections::Sqlite(_) => DbBackend::Sqlite,
            Connections::Postgres(_) => DbBackend::Postgres,
        }
    }

    /// How many statements have run through this pool (and its clones).
    pub fn run(&self) -> u64 {
        self.run.load(Ordering::Relaxed)
    }

    /// A transaction on a connection of this pool. Nothing is sent yet: its
    /// first statement takes the connection and begins it (see
    /// [`LazyTxn::untouched`]), and the connection is held until the
    /// transaction commits or is dropped (then rolled back).
    pub fn begin(&self) -> LazyTxn {
        LazyTxn {
            connections: self.connections.clone(),
            lent: tokio::sync::Mutex::new(None),
            backend: self.backend(),
            returning: self.returning,
        }
    }
}
