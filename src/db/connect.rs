//! Connecting: sea-orm's connection over sqlx's pool, SQLite's settings,
//! migrations, and how a process's connections are shared out.

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::Settings;

#[tracing::instrument(skip_all)]
pub(super) async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    if settings.is_sqlite() {
        super::sqlite::use_mimalloc();
    }
    let mut options = ConnectOptions::new(settings.database_url.clone());
    options
        .max_connections(Budget::of(settings).sqlx)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // On SQLite this pool serves transactions, and a file does not go
        // away under a connection. On PostgreSQL it serves only
        // migrations and `/readyz` (statements and transactions have
        // pools of their own, see Budget), whose connections may have
        // outlived a server restart: sqlx pings each before lending it.
        .test_before_acquire(!settings.is_sqlite());
    if settings.is_sqlite() {
        // WAL lets readers run beside the one writer; the busy timeout makes
        // concurrent writers wait for each other instead of failing.
        // (mmap was tried: no faster here, and the mapped file counts in RSS.)
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
                // Checkpoints run in the background (checkpoint_forever),
                // not inside whichever commit crosses the threshold.
                .pragma("wal_autocheckpoint", "0")
                // 8 MiB of page cache per connection instead of SQLite's
                // 2 MiB: the deliveries' per-webhook indexes take inserts
                // at as many places as there are webhooks, and with 2 MiB
                // their pages were read back from the OS for each batch.
                // Statement journals (multi-row writes inside a
                // transaction) stay in memory instead of temporary files.
                .pragma("cache_size", "-8192")
                .pragma("temp_store", "memory")
        });
    }
    if !settings.is_sqlite() {
        reach_postgres(&settings.database_url).await?;
    }
    let db = Database::connect(options)
        .await
        .with_context(|| format!("connecting to {}", redact(&settings.database_url)))?;
    Ok(db)
}

/// Opens and closes one connection. sqlx's pool reports a server it cannot
/// reach only as "pool timed out" after its whole acquire timeout; one
/// connection of its own says why (connection refused, unknown host, bad
/// password) at once.
async fn reach_postgres(url: &str) -> anyhow::Result<()> {
    use sea_orm::sqlx::{Connection, postgres::PgConnection};
    let wait = Duration::from_secs(10);
    match tokio::time::timeout(wait, PgConnection::connect(url)).await {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            Ok(())
        }
        Ok(Err(error)) => {
            Err(error).with_context(|| format!("cannot connect to PostgreSQL at {}", redact(url)))
        }
        Err(_) => anyhow::bail!(
            "PostgreSQL at {} did not answer within {} s",
            redact(url),
            wait.as_secs()
        ),
    }
}

/// `DATABASE_MAX_CONNECTIONS` is a process's whole budget, split between
/// three pools: sqlx's (sea-orm's [`DatabaseConnection`]), one for single
/// statements, and on PostgreSQL another for write transactions. Half goes to single
/// statements; the other half to transactions: on SQLite all of it to
/// sqlx's pool, which they run on; on PostgreSQL all but one connection
/// (sqlx's, for health checks and migrations) to the write pool.
pub(super) struct Budget {
    pub sqlx: u32,
    pub statements: u32,
    pub writes: u32,
}

impl Budget {
    pub fn of(settings: &Settings) -> Self {
        let max = settings.database_max_connections;
        let transactions = (max / 2).max(1);
        let statements = max.saturating_sub(transactions).max(1);
        match settings.is_sqlite() {
            true => Self {
                sqlx: transactions,
                statements,
                writes: 0,
            },
            false => Self {
                sqlx: 1,
                statements,
                writes: transactions.saturating_sub(1).max(1),
            },
        }
    }
}

/// Begins a transaction that will write. On SQLite it takes the write lock
/// up front (`BEGIN IMMEDIATE`): a deferred transaction that reads first
/// fails with SQLITE_BUSY, beyond the busy timeout's help, when another
/// writer commits between its read and its first write.
pub(crate) async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

#[tracing::instrument(skip_all)]
pub(super) async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("running migrations")
}

/// A private in-memory SQLite database, for unit tests. One connection:
/// each would open a memory database of its own.
#[cfg(test)]
pub async fn in_memory() -> DatabaseConnection {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1);
    Database::connect(options).await.unwrap()
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use migration::{Migrator, MigratorTrait};

    use super::{in_memory, redact};

    /// An upgrade that goes wrong can be stepped back: every migration's
    /// `down` undoes its `up`, so all of them run down and up again.
    #[tokio::test]
    async fn every_migration_can_be_undone_and_redone() {
        let db = in_memory().await;
        Migrator::up(&db, None).await.unwrap();
        Migrator::down(&db, None).await.unwrap();
        assert!(
            Migrator::get_applied_migrations(&db)
                .await
                .unwrap()
                .is_empty()
        );
        Migrator::up(&db, None).await.unwrap();
        assert!(
            Migrator::get_pending_migrations(&db)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("sqlite://junction.db?mode=rwc"),
            "sqlite://junction.db?mode=rwc"
        );
    }
}
