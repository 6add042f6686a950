//! PostgreSQL's planner statistics for tables that grow fast. Statements
//! here are planned once per connection (`plan_cache_mode =
//! force_generic_plan`, see `pool`), and PostgreSQL plans a statement again
//! only when its tables' statistics change. A plan made while a table was
//! small (a new deployment's, a benchmark's) scans it whole, and autovacuum
//! analyzes a growing table only about once a minute: meanwhile a fan-out
//! adds thousands of deliveries a second, each lease and settling reading
//! them all. So each process analyzes a table as soon as it has changed by
//! more rows than it held: a growing table is analyzed each time it
//! doubles, a settled one left to autovacuum.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// How often the tables' change counts are looked at.
const EVERY: Duration = Duration::from_secs(1);

/// Changes below this never call for an analysis of their own.
const MIN_CHANGES: i64 = 1_000;

/// The tables of this database that have changed by more rows than they
/// held at their last analysis (and by at least [`MIN_CHANGES`]).
const GROWN: &str = "SELECT quote_ident(relname) FROM pg_stat_user_tables \
     WHERE schemaname = current_schema() \
     AND n_mod_since_analyze > greatest($1, n_live_tup - n_mod_since_analyze)";

/// Analyzes grown tables every [`EVERY`], for as long as the process runs.
/// Failures (the database restarting) are retried at the next look.
pub(super) async fn analyze_grown_tables(db: DatabaseConnection) {
    let mut every = tokio::time::interval(EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(error) = analyze_grown(&db).await {
            tracing::debug!(%error, "analyzing grown tables failed");
        }
    }
}

/// Analyzes the tables that have grown; returns their names.
pub(super) async fn analyze_grown(db: &DatabaseConnection) -> Result<Vec<String>, sea_orm::DbErr> {
    let grown = Statement::from_sql_and_values(DbBackend::Postgres, GROWN, [MIN_CHANGES.into()]);
    let tables: Vec<String> = db
        .query_all_raw(grown)
        .await?
        .iter()
        .map(|row| row.try_get_by_index(0))
        .collect::<Result<_, _>>()?;
    for table in &tables {
        db.execute_unprepared(&format!("ANALYZE {table}")).await?;
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use sea_orm::TransactionTrait;

    use super::*;

    async fn plan(conn: &impl ConnectionTrait) -> String {
        let rows = conn
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "EXPLAIN EXECUTE lease(ARRAY['d1', 'd2'])",
            ))
            .await
            .unwrap();
        let lines: Vec<String> = rows
            .iter()
            .map(|r| r.try_get_by_index(0).unwrap())
            .collect();
        lines.join("\n")
    }

    /// A statement planned while its table was small keeps scanning it
    /// whole as it grows, until the table is analyzed; this analysis comes
    /// as soon as the table has grown, not a minute later.
    #[tokio::test]
    async fn a_plan_made_on_a_small_table_is_made_again_once_it_has_grown() {
        let test = "a_plan_made_on_a_small_table_is_made_again_once_it_has_grown";
        let Some(db) = crate::db::testing::postgres(test).await else {
            return;
        };
        for setup in [
            "CREATE TABLE deliveries (id text PRIMARY KEY, status text, attempts int)",
            "INSERT INTO deliveries SELECT 'd' || i, 'PENDING', 0 FROM generate_series(1, 5) i",
            "ANALYZE deliveries",
        ] {
            db.execute_unprepared(setup).await.unwrap();
        }
        // One connection, planning as the pools' connections do, its
        // statements each in a transaction of its own as theirs are.
        let options = db.get_postgres_connection_pool().connect_options();
        let one = sea_orm::sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_with((*options).clone())
            .await
            .unwrap();
        let held = sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(one);
        for setup in [
            "SET plan_cache_mode = force_generic_plan",
            "PREPARE lease(text[]) AS UPDATE deliveries SET attempts = attempts + 1 WHERE id = ANY($1)",
        ] {
            held.execute_unprepared(setup).await.unwrap();
        }
        assert!(
            plan(&held).await.contains("Seq Scan"),
            "{}",
            plan(&held).await
        );

        let writer = db.begin().await.unwrap();
        writer
            .execute_unprepared("SELECT pg_stat_force_next_flush()")
            .await
            .unwrap();
        writer
            .execute_unprepared(
                "INSERT INTO deliveries SELECT 'e' || i, 'PENDING', 0 FROM generate_series(1, 100000) i",
            )
            .await
            .unwrap();
        writer.commit().await.unwrap();
        assert!(
            plan(&held).await.contains("Seq Scan"),
            "stale until analyzed"
        );

        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while analyze_grown(&db).await.unwrap().is_empty() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the grown table is analyzed"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let replanned = plan(&held).await;
        assert!(replanned.contains("Index"), "{replanned}");
        // Analyzed, it is left alone until it grows again.
        assert!(analyze_grown(&db).await.unwrap().is_empty());
    }
}
