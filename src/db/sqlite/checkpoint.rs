//! Copying SQLite's WAL back into the database file, off the writers' path.

use std::{sync::Arc, time::Duration};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use super::SqliteWriter;

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// WAL length (frames of one page) past which a checkpoint finishes under
/// the writer slot, so that the WAL can start over instead of growing.
const WAL_RESTART_FRAMES: i64 = 4096;

/// Copies SQLite's WAL back into the database file, in the background.
///
/// SQLite's automatic checkpoint (turned off in [`connect`]) runs inside
/// the commit that crosses its threshold, while that writer still holds
/// the process's writer slot: every write and delivery lease queued behind
/// it waited for the copy and its fsync (the worst delivery latencies).
/// Here a passive checkpoint runs beside the writer every
/// [`CHECKPOINT_EVERY`]. Writers keep appending meanwhile, so such a
/// checkpoint never reaches the end of the WAL, and only a checkpoint that
/// does lets the next writer start the WAL over: once the WAL is long, a
/// second checkpoint takes the writer slot and copies what remains (little,
/// right after the first).
pub(crate) async fn checkpoint_forever(db: DatabaseConnection, writer: Arc<SqliteWriter>) {
    loop {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        let finished = match checkpoint(&db).await {
            Ok(frames) if frames >= WAL_RESTART_FRAMES => {
                let _slot = writer.take_alone(false).await;
                checkpoint(&db).await
            }
            other => other,
        };
        if let Err(error) = finished {
            tracing::warn!(%error, "SQLite checkpoint failed");
        }
    }
}

/// One passive checkpoint; returns the WAL's length in frames.
async fn checkpoint(db: &DatabaseConnection) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA wal_checkpoint(PASSIVE)",
        ))
        .await?;
    // Columns: busy, log (frames in the WAL), checkpointed.
    row.map(|row| row.try_get_by_index::<i64>(1))
        .transpose()
        .map(Option::unwrap_or_default)
}
