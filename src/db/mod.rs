//! Storage: the one way the rest of the code reads and writes.
//!
//! [`Db`] runs statements on their own (every read, and a write that
//! commits by itself) and begins write transactions ([`Txn`]). How a write
//! is run is this module's business alone:
//! - on SQLite, writers take the process's one writer slot in turn, and
//!   those waiting in line share one transaction, a savepoint each, and
//!   one commit (`sqlite/`); writing requests run on a thread of their
//!   own ([`Db::on_writer`]);
//! - on PostgreSQL a transaction takes its connection and sends `BEGIN` at
//!   its first statement, so a change that has run none can still be
//!   written as one statement that commits on its own ([`Txn::run_alone`]);
//! - connections for both are lent without sqlx's ping (`pool/`).

mod connect;
mod pool;
mod rows;
mod script;
mod sqlite;
mod statistics;
#[cfg(test)]
pub mod testing;
mod txn;

use std::sync::Arc;

use anyhow::Context;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, Statement,
    sea_query::UpdateStatement,
};

#[cfg(test)]
pub use connect::in_memory;
pub use connect::redact;
pub use pool::{Pool, connection_lost};
pub use rows::Rows;
pub use script::{JoinFirst, Script};
pub use txn::Txn;

use crate::config::Settings;
use connect::Budget;
use sqlite::SqliteWriter;

/// The database: cheap to clone, shared by every part of a process.
#[derive(Clone)]
pub struct Db {
    /// Statements that run on their own.
    statements: Pool,
    /// sea-orm's connection over sqlx's pool: migrations, health checks,
    /// and SQLite's write transactions.
    sqlx: DatabaseConnection,
    writes: Writes,
}

/// Where write transactions run.
#[derive(Clone)]
enum Writes {
    /// Through the one writer, on sqlx's pool.
    Sqlite(Arc<SqliteWriter>),
    /// On a pool of their own, apart from single statements', so that
    /// transactions waiting for a statement's connection can never hold
    /// all of them.
    Postgres(Pool),
}

impl Db {
    /// Connects to `DATABASE_URL`, migrates the database, and starts what
    /// runs beside it (SQLite's writer thread and checkpoints; PostgreSQL's
    /// analysis of grown tables).
    #[tracing::instrument(skip_all)]
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let sqlx = connect::connect(settings).await?;
        connect::migrate(&sqlx).await?;
        let budget = Budget::of(settings);
        let failures = pool::Failures::default();
        let writes = match sqlx.get_database_backend() {
            DbBackend::Sqlite => {
                let writer = SqliteWriter::with_thread().context("starting the SQLite writer")?;
                let writer = Arc::new(writer);
                tokio::spawn(sqlite::checkpoint_forever(sqlx.clone(), writer.clone()));
                Writes::Sqlite(writer)
            }
            _ => {
                tokio::spawn(statistics::analyze_grown_tables(sqlx.clone()));
                Writes::Postgres(Pool::new(&sqlx, budget.writes as usize, &failures))
            }
        };
        Ok(Self {
            statements: Pool::new(&sqlx, budget.statements as usize, &failures),
            sqlx,
            writes,
        })
    }

    /// Begins a write transaction.
    pub async fn begin(&self) -> Result<Txn, DbErr> {
        match &self.writes {
            Writes::Sqlite(writer) => writer.begin(&self.sqlx).await,
            Writes::Postgres(pool) => Ok(Txn::alone(pool.begin(), self.statements.clone())),
        }
    }

    /// Runs `work`, a unit of work that writes: on SQLite on the writer's
    /// own thread (see [`SqliteWriter::run`]), elsewhere in place.
    pub async fn on_writer<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> T {
        match &self.writes {
            Writes::Sqlite(writer) => writer.run(work).await,
            Writes::Postgres(_) => work.await,
        }
    }

    /// Runs `update` (an `UPDATE … RETURNING`), a write that commits on its
    /// own, ahead of the transactions waiting to write. Where the database
    /// can in the same statement (PostgreSQL), the rows `join` names come
    /// with it; elsewhere the caller reads them.
    pub async fn update_ahead(
        &self,
        update: &UpdateStatement,
        join: &JoinFirst<'_>,
    ) -> Result<Vec<QueryResult>, DbErr> {
        match &self.writes {
            Writes::Sqlite(writer) => {
                let _slot = writer.take_alone(true).await;
                self.statements.query_all(update).await
            }
            Writes::Postgres(_) => {
                let statement = join.with(update);
                self.statements.query_all_raw(statement).await
            }
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.sqlx.ping().await
    }

    /// Rewrites `tables` so that no old row version, freed page or log
    /// frame still holds what was overwritten (secrets sealed in place).
    /// SQLite: the WAL is checkpointed and emptied around a VACUUM;
    /// PostgreSQL: VACUUM FULL (its WAL archives, if kept, are not).
    pub async fn purge_freed_pages(&self, tables: &[&str]) -> Result<(), DbErr> {
        match &self.writes {
            Writes::Sqlite(_) => {
                for sql in [
                    "PRAGMA wal_checkpoint(TRUNCATE)",
                    "VACUUM",
                    "PRAGMA wal_checkpoint(TRUNCATE)",
                ] {
                    self.sqlx.execute_unprepared(sql).await?;
                }
            }
            Writes::Postgres(_) => {
                let sql = format!("VACUUM FULL {}", tables.join(", "));
                self.sqlx.execute_unprepared(&sql).await?;
            }
        }
        Ok(())
    }

    /// Statements run on their own so far (tests count them).
    pub fn statements_run(&self) -> u64 {
        self.statements.run()
    }
}

/// Statements run on `Db` itself run on their own: reads, and writes that
/// commit by themselves.
#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        self.statements.get_database_backend()
    }

    async fn execute_raw(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        self.statements.execute_raw(statement).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.statements.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.statements.query_one_raw(statement).await
    }

    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.statements.query_all_raw(statement).await
    }

    fn support_returning(&self) -> bool {
        self.statements.support_returning()
    }
}
