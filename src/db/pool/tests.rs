//! The pool: connections lent again only when settled.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DbBackend, QueryResult, Statement};

use super::{Connections, Failures, Pool, connect::prune};

/// A pool of one SQLite connection, marked by a temporary table that
/// only that connection sees.
async fn one_marked_connection(dir: &tempfile::TempDir) -> Pool {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let db = Database::connect(&url).await.unwrap();
    let statements = Pool::new(&db, 1, &Failures::default());
    statements
        .execute_unprepared("CREATE TEMP TABLE mark (x INTEGER)")
        .await
        .unwrap();
    statements
}

async fn marked(statements: &Pool) -> bool {
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
async fn values(statements: &Pool) -> Vec<i64> {
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
    let Connections::Sqlite(pool) = &statements.connections else {
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
/// statement that meets it, and only that one.
#[tokio::test]
async fn a_connection_postgresql_ended_is_not_lent_again() {
    let test = "a_connection_postgresql_ended_is_not_lent_again";
    let Some(db) = crate::db::testing::postgres(test).await else {
        return;
    };
    let statements = Pool::new(&db, 1, &Failures::default());
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

/// On PostgreSQL the pool's connections keep the generic plan made at a
/// statement's first run (see [`Pool::new`]) until the table's statistics
/// change: a lookup planned on a one-row table looks rows up by index once
/// the grown table has been analyzed (`db::statistics`), not a minute
/// later. sqlx's own pool keeps the server's defaults.
#[tokio::test]
async fn statements_on_postgresql_use_the_index_once_a_table_has_grown() {
    let test = "statements_on_postgresql_use_the_index_once_a_table_has_grown";
    let Some(db) = crate::db::testing::postgres(test).await else {
        return;
    };
    let show = Statement::from_string(DbBackend::Postgres, "SHOW plan_cache_mode");
    let text = |row: Option<QueryResult>| row.unwrap().try_get_by_index::<String>(0).unwrap();
    let statements = Pool::new(&db, 1, &Failures::default());
    let here = text(statements.query_one_raw(show.clone()).await.unwrap());
    assert_eq!(here, "force_generic_plan");
    assert_eq!(text(db.query_one_raw(show).await.unwrap()), "auto");

    let sql = |sql: &str| Statement::from_string(DbBackend::Postgres, sql);
    for setup in [
        "CREATE TABLE planned (id text PRIMARY KEY, n integer)",
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
    let scans = || async {
        // This connection's table statistics, sent now rather than within
        // the next second.
        statements
            .query_one_raw(sql("SELECT pg_stat_force_next_flush()"))
            .await
            .unwrap();
        let row = statements
            .query_one_raw(sql(
                "SELECT idx_scan, seq_tup_read FROM pg_stat_user_tables \
                 WHERE relid = 'planned'::regclass",
            ))
            .await
            .unwrap()
            .unwrap();
        let count = |i| row.try_get_by_index::<Option<i64>>(i).unwrap().unwrap_or(0);
        (count(0), count(1))
    };
    scans().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while crate::db::statistics::analyze_grown(&db)
        .await
        .unwrap()
        .is_empty()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the grown table is analyzed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let before = scans().await;
    let row = statements.query_one_raw(lookup()).await.unwrap().unwrap();
    assert_eq!(row.try_get_by_index::<i32>(0).unwrap(), 1);
    let after = scans().await;
    assert!(after.0 > before.0, "an index scan: {before:?} -> {after:?}");
    assert_eq!(after.1, before.1, "no rows read by a whole-table scan");
}
