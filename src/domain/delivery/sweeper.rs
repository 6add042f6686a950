//! The sweeper's work, every `SWEEP_INTERVAL_MS` in every process that
//! runs workers: queue again due deliveries whose job was lost, measure
//! the queue's depth and lag, and delete deliveries past their retention.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::delivery;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};

use super::queue::Due;
use crate::{
    domain::Ctx,
    domain::{
        ids,
        outbox::{PENDING, lease_free, status_is},
    },
    error::AppResult,
};

/// How many graces an attempt may stay overdue before the sweeper gives it
/// a new job: a job waiting behind a backlog that long gets a second copy
/// (the delivery's lease keeps the two from both sending it).
const LOST_AFTER_GRACES: u32 = 10;
/// Deliveries the sweeper re-queues per pass.
const SWEEP_BATCH: u64 = 1000;
/// Expired deliveries deleted per transaction, and transactions per pass.
const PRUNE_BATCH: u64 = 1000;
const PRUNE_BATCHES: usize = 10;

/// A due delivery the sweeper considers lost: due for longer than `grace`
/// and with no attempt in flight.
fn overdue(now: DateTime<Utc>, grace: Duration) -> Condition {
    let cutoff = now - ids::span(grace);
    Condition::all()
        .add(status_is(PENDING))
        .add(delivery::Column::NextAttemptAt.lte(cutoff))
        .add(lease_free(now))
}

/// The deliveries the sweeper considers lost, longest overdue first.
fn lost(now: DateTime<Utc>, grace: Duration) -> Select<delivery::Entity> {
    delivery::Entity::find()
        .filter(overdue(now, grace))
        .order_by_asc(delivery::Column::NextAttemptAt)
}

/// The deliveries due by `now`, longest due first: the queue's depth and lag.
fn due(now: DateTime<Utc>) -> Select<delivery::Entity> {
    delivery::Entity::find()
        .filter(status_is(PENDING))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(delivery::Column::NextAttemptAt)
}

/// The first `n` deliveries `select` finds, as the attempts they are due
/// for, each counted lost once per `lost_after` it has been overdue since
/// `now`.
async fn first_due(
    app: &Ctx,
    select: Select<delivery::Entity>,
    n: u64,
    now: DateTime<Utc>,
    lost_after: Duration,
) -> AppResult<Vec<Due>> {
    let rows: Vec<(String, Option<DateTime<Utc>>)> = select
        .limit(n)
        .select_only()
        .column(delivery::Column::Id)
        .column(delivery::Column::NextAttemptAt)
        .into_tuple()
        .all(&app.db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(delivery_id, at)| {
            let mut due = Due::new(delivery_id, at?);
            let overdue = (now - due.at).to_std().unwrap_or_default();
            due.found_lost = (overdue.as_millis() / lost_after.as_millis().max(1)) as u32;
            Some(due)
        })
        .collect())
}

/// The ids of the first `n` deliveries `select` finds.
async fn first_ids(app: &Ctx, select: Select<delivery::Entity>, n: u64) -> AppResult<Vec<String>> {
    Ok(select
        .limit(n)
        .select_only()
        .column(delivery::Column::Id)
        .into_tuple()
        .all(&app.db)
        .await?)
}

/// One sweeper pass; returns how many deliveries it queued again.
pub async fn sweep_once(app: &Ctx) -> AppResult<usize> {
    let now = Utc::now();
    let grace = Duration::from_secs(app.settings.sweep_grace_seconds);
    // Most of these still have their job, waiting behind a backlog; the
    // queue adds a job only for those that lost theirs. A pass here or in
    // another process finds them again, and adds nothing either. A job can
    // also be lost while the queue still holds it (a list emptied by hand,
    // Redis evicting keys): once overdue LOST_AFTER_GRACES times the grace,
    // and as often again after that, an attempt gets a job of its own.
    let lost_after = grace.max(Duration::from_secs(1)) * LOST_AFTER_GRACES;
    let lost = first_due(app, lost(now, grace), SWEEP_BATCH, now, lost_after).await?;
    if !lost.is_empty() {
        tracing::debug!(count = lost.len(), "re-queueing overdue deliveries");
        app.queue.push(&lost).await;
    }

    let depth = due(now).count(&app.db).await?;
    let oldest = due(now).one(&app.db).await?.and_then(|d| d.next_attempt_at);
    app.metrics.delivery_queue_depth.set(depth as i64);
    app.metrics.delivery_queue_lag.set(
        oldest
            .map(|at| (now - at).num_milliseconds().max(0) as f64 / 1000.0)
            .unwrap_or(0.0),
    );
    Ok(lost.len())
}

/// Settled deliveries past `DELIVERY_RETENTION_SECONDS`: made before
/// `cutoff` (ids sort by creation, so the primary key finds them oldest
/// first without an index of their own), not `PENDING`, and unchanged
/// since (a redelivered one starts its retention again).
fn expired(cutoff: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(delivery::Column::Id.lt(ids::first_id_at(cutoff)))
        .add(Condition::all().add(status_is(PENDING)).not())
        .add(delivery::Column::UpdatedAt.lt(cutoff))
}

/// Expired deliveries, oldest first.
fn expired_first(cutoff: DateTime<Utc>) -> Select<delivery::Entity> {
    delivery::Entity::find()
        .filter(expired(cutoff))
        .order_by_asc(delivery::Column::Id)
}

/// Deletes up to `PRUNE_BATCHES` batches of expired deliveries (their
/// attempts go with them, by cascade); returns how many. A short write
/// transaction per batch, so a large first pruning after an upgrade or a
/// long pause never holds SQLite's writer for long.
pub async fn prune_once(app: &Ctx) -> AppResult<u64> {
    let retention = app.settings.delivery_retention_seconds;
    if retention == 0 {
        return Ok(0);
    }
    let cutoff = Utc::now() - ids::span(Duration::from_secs(retention));
    let mut pruned = 0;
    for _ in 0..PRUNE_BATCHES {
        // Read first: most passes find nothing and need no writer.
        let batch = first_ids(app, expired_first(cutoff), PRUNE_BATCH).await?;
        if batch.is_empty() {
            break;
        }
        let full = batch.len() as u64 == PRUNE_BATCH;
        let txn = app.db.begin().await?;
        pruned += delivery::Entity::delete_many()
            .filter(delivery::Column::Id.is_in(batch))
            // Unless redelivered since the read.
            .filter(expired(cutoff))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        if !full {
            break;
        }
    }
    if pruned > 0 {
        app.metrics.deliveries_pruned.inc_by(pruned);
        tracing::info!(count = pruned, "deleted deliveries past their retention");
    }
    Ok(pruned)
}

#[cfg(test)]
mod tests {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, IntoActiveModel, QueryTrait};
    use serde_json::json;

    use super::*;

    /// The steps of SQLite's plan for `query`.
    async fn plan(query: Select<delivery::Entity>) -> Vec<String> {
        let db = crate::db::in_memory().await;
        Migrator::up(&db, None).await.unwrap();
        let mut query = query.build(db.get_database_backend());
        query.sql = format!("EXPLAIN QUERY PLAN {}", query.sql);
        db.query_all_raw(query)
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get("", "detail").unwrap())
            .collect()
    }

    /// The sweeper runs these every few seconds in every process; through
    /// the partial index they read the backlog, not every delivery ever
    /// made. Binding the status instead of writing it out would silently
    /// lose the index (see `status_is`).
    #[tokio::test]
    async fn due_work_is_read_through_the_pending_index() {
        let now = Utc::now();
        for query in [lost(now, Duration::from_secs(60)), due(now)] {
            let steps = plan(query).await;
            // The space tells it from `ix_deliveries_pending_webhook`.
            assert!(
                steps.iter().any(|s| s.contains("ix_deliveries_pending ")),
                "{steps:?}"
            );
        }
    }

    /// Pruning reads from the oldest delivery up to its cutoff through the
    /// primary key, not the whole table.
    #[tokio::test]
    async fn expired_deliveries_are_found_through_the_primary_key() {
        let steps = plan(expired_first(Utc::now())).await;
        assert_eq!(steps.len(), 1, "{steps:?}");
        assert!(
            steps[0]
                .starts_with("SEARCH deliveries USING INDEX sqlite_autoindex_deliveries_1 (id<?)"),
            "{steps:?}"
        );
    }

    /// The same on PostgreSQL, with plans made as the pool's connections
    /// make them (generic, for any value bound) on a table of a running
    /// deployment's size: a hundred thousand settled deliveries and a
    /// backlog of a few.
    #[tokio::test]
    async fn due_work_is_read_through_the_pending_index_on_a_large_postgresql_table() {
        let test = "due_work_is_read_through_the_pending_index_on_a_large_postgresql_table";
        let Some(db) = crate::db::testing::postgres(test).await else {
            return;
        };
        Migrator::up(&db, None).await.unwrap();
        let webhook = crate::domain::webhooks::sample(true, json!([]), json!([]));
        let org = entity::organization::Model {
            id: webhook.organization_id.clone(),
            name: "o".into(),
            created_at: webhook.created_at,
            updated_at: webhook.created_at,
        };
        let event = entity::event::Model {
            id: "e".into(),
            organization_id: org.id.clone(),
            project_id: None,
            event_type: "PROJECT_CREATED".into(),
            actor_id: None,
            current_value: json!({}),
            previous_value: None,
            created_at: org.created_at,
        };
        entity::organization::Entity::insert(org.into_active_model())
            .exec_without_returning(&db)
            .await
            .unwrap();
        entity::event::Entity::insert(event.into_active_model())
            .exec_without_returning(&db)
            .await
            .unwrap();
        entity::webhook::Entity::insert(webhook.into_active_model())
            .exec_without_returning(&db)
            .await
            .unwrap();
        for setup in [
            "INSERT INTO deliveries (id, organization_id, webhook_id, event_id, event_type, \
             status, attempts, next_attempt_at, created_at, updated_at) \
             SELECT 'd' || i, 'o', 'w', 'e', 'PROJECT_CREATED', \
             CASE WHEN i % 20000 = 0 THEN 'PENDING' ELSE 'SUCCEEDED' END, 1, \
             CASE WHEN i % 20000 = 0 THEN now() END, now(), now() \
             FROM generate_series(1, 100000) i",
            "ANALYZE",
            "SET plan_cache_mode = force_generic_plan",
        ] {
            db.execute_unprepared(setup).await.unwrap();
        }
        let now = Utc::now();
        for query in [lost(now, Duration::from_secs(60)), due(now)] {
            let mut query = query.build(db.get_database_backend());
            query.sql = format!("EXPLAIN {}", query.sql);
            let plan: Vec<String> = db
                .query_all_raw(query)
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get_by_index(0).unwrap())
                .collect();
            let plan = plan.join("\n");
            // Either partial index of pending deliveries reads the backlog
            // alone.
            assert!(plan.contains("ix_deliveries_pending"), "{plan}");
            assert!(!plan.contains("Seq Scan"), "{plan}");
        }
    }
}
