use sea_orm_migration::prelude::*;

use crate::indexes::index;

/// Deliveries' status indexes cover only the rows they are asked about.
///
/// A delivery is inserted `PENDING` and, nearly always, settles
/// `SUCCEEDED` at its first attempt and is never looked at by status
/// again. The indexes this replaces kept every delivery:
/// `ix_deliveries_due (status, next_attempt_at)` and
/// `ix_deliveries_webhook_status (webhook_id, status, updated_at)`, whose
/// entries move when a delivery settles. The second takes inserts at as
/// many places as there are webhooks, so a fan-out dirtied a page of it
/// per webhook at its insert and again at its settling.
///
/// Now:
/// - `ix_deliveries_pending (next_attempt_at) WHERE status = 'PENDING'`:
///   due work for the sweeper and the queue-depth metric; a delivery
///   leaves it when it settles, so it stays as small as the backlog;
/// - `ix_deliveries_pending_webhook (webhook_id, id) WHERE status = 'PENDING'`
///   and its `FAILED` twin: a webhook's deliveries of one status, newest
///   first, and `redeliverFailed`. Successes, the bulk, are never in them;
///   `ix_deliveries_webhook (webhook_id, id)` still lists everything.
///
/// Queries use them only when their condition names the same literal
/// status (`domain::outbox::status_is`): SQLite's planner and PostgreSQL's
/// generic plans cannot see that a bound parameter equals it.
#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "deliveries";

/// The partial indexes: name, columns, status.
const PARTIAL: [(&str, &[&str], &str); 3] = [
    ("ix_deliveries_pending", &["next_attempt_at"], "PENDING"),
    (
        "ix_deliveries_pending_webhook",
        &["webhook_id", "id"],
        "PENDING",
    ),
    (
        "ix_deliveries_failed_webhook",
        &["webhook_id", "id"],
        "FAILED",
    ),
];

/// The whole-table indexes they replace: name, columns.
const REPLACED: [(&str, &[&str]); 2] = [
    ("ix_deliveries_due", &["status", "next_attempt_at"]),
    (
        "ix_deliveries_webhook_status",
        &["webhook_id", "status", "updated_at"],
    ),
];

fn drop(name: &'static str) -> IndexDropStatement {
    Index::drop().name(name).table(TABLE).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in REPLACED {
            manager.drop_index(drop(name)).await?;
        }
        for (name, columns, status) in PARTIAL {
            let mut partial = index(TABLE, name, columns, false);
            partial.and_where(Expr::col("status").eq(status));
            manager.create_index(partial).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _, _) in PARTIAL {
            manager.drop_index(drop(name)).await?;
        }
        for (name, columns) in REPLACED {
            manager
                .create_index(index(TABLE, name, columns, false))
                .await?;
        }
        Ok(())
    }
}
