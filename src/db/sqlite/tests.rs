//! Group commit and the writer slot, on a SQLite file.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

use super::SqliteWriter;
use crate::db::txn::Txn;

/// Long enough that a group waits for its next member on a loaded machine.
const GROUP_AGE_IN_TESTS: Duration = Duration::from_secs(2);

async fn database(dir: &tempfile::TempDir) -> DatabaseConnection {
    let path = dir.path().join("group.db");
    let mut options = sea_orm::ConnectOptions::new(format!("sqlite://{}?mode=rwc", path.display()));
    options.max_connections(4);
    let db = Database::connect(options).await.unwrap();
    db.execute_unprepared("CREATE TABLE t (v INTEGER NOT NULL)")
        .await
        .unwrap();
    db
}

async fn insert(txn: &Txn, v: i64) {
    txn.execute_unprepared(&format!("INSERT INTO t (v) VALUES ({v})"))
        .await
        .unwrap();
}

/// An insert as a query (sea-orm's inserts on SQLite use RETURNING):
/// a member's first one carries its savepoint.
async fn insert_returning(txn: &Txn, v: i64) -> Result<i64, sea_orm::DbErr> {
    let row = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("INSERT INTO t (v) VALUES ({v}) RETURNING v"),
        ))
        .await?
        .expect("RETURNING gives the row");
    row.try_get_by_index(0)
}

/// The committed rows, read beside the writers.
async fn committed(db: &DatabaseConnection) -> Vec<i64> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT v FROM t ORDER BY v",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get_by_index(0).unwrap())
        .collect()
}

/// `task`'s result, failing the test rather than hanging it when a
/// group is never committed.
async fn within<T>(task: tokio::task::JoinHandle<T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the group was left open")
        .unwrap()
}

/// A database, its writer, and a first writer holding the slot that
/// has written 1 (the directory must outlive the database).
async fn first_writer() -> (
    tempfile::TempDir,
    DatabaseConnection,
    Arc<SqliteWriter>,
    Txn,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let writer = Arc::new(SqliteWriter::with_group_age(GROUP_AGE_IN_TESTS));
    let first = writer.begin(&db).await.unwrap();
    insert(&first, 1).await;
    (dir, db, writer, first)
}

/// Starts a writer that joins the line, then waits for `go` before it
/// writes `v` and (if `commits`) commits; returns once it is in line.
async fn next_writer(
    writer: &Arc<SqliteWriter>,
    db: &DatabaseConnection,
    v: i64,
    commits: bool,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), sea_orm::DbErr>>,
) {
    let (go, went) = tokio::sync::oneshot::channel();
    let (writer2, db) = (writer.clone(), db.clone());
    let task = tokio::spawn(async move {
        let txn = writer2.begin(&db).await?;
        went.await.unwrap();
        insert(&txn, v).await;
        match commits {
            true => txn.commit().await,
            false => Ok(()),
        }
    });
    while writer.waiting.load(std::sync::atomic::Ordering::Acquire) == 0 {
        tokio::task::yield_now().await;
    }
    (go, task)
}

#[tokio::test]
async fn a_writer_with_another_in_line_leaves_the_commit_to_it() {
    let (_dir, db, writer, first) = first_writer().await;
    let (go, second) = next_writer(&writer, &db, 2, true).await;
    let first = tokio::spawn(first.commit());
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The first released its savepoint and waits for the second.
    assert!(!first.is_finished());
    assert_eq!(committed(&db).await, Vec::<i64>::new());
    go.send(()).unwrap();
    within(second).await.unwrap();
    within(first).await.unwrap();
    assert_eq!(committed(&db).await, [1, 2]);
}

#[tokio::test]
async fn a_writer_that_fails_rolls_back_alone_and_commits_for_the_others() {
    let (_dir, db, writer, first) = first_writer().await;
    let (go, second) = next_writer(&writer, &db, 2, false).await;
    let first = tokio::spawn(first.commit());
    go.send(()).unwrap();
    // The second wrote, then dropped its transaction uncommitted.
    within(second).await.unwrap();
    within(first).await.unwrap();
    assert_eq!(committed(&db).await, [1]);
    // The slot is free again, for a write of its own.
    let third = writer.begin(&db).await.unwrap();
    insert(&third, 3).await;
    third.commit().await.unwrap();
    assert_eq!(committed(&db).await, [1, 3]);
}

#[tokio::test]
async fn savepoints_travel_with_queries_and_still_undo_only_their_member() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    db.execute_unprepared("CREATE UNIQUE INDEX t_v ON t (v)")
        .await
        .unwrap();
    let writer = Arc::new(SqliteWriter::with_group_age(GROUP_AGE_IN_TESTS));
    // Twice, a member that succeeds and leaves the commit to the next,
    // then one that fails: after writing, then on its first statement.
    for (good, fails_after) in [(1, Some(2)), (3, None)] {
        let member = writer.begin(&db).await.unwrap();
        assert_eq!(insert_returning(&member, good).await.unwrap(), good);
        let stand_in = super::Waiting::count(&writer);
        let member = tokio::spawn(member.commit());
        let failing = writer.begin(&db).await.unwrap();
        if let Some(v) = fails_after {
            assert_eq!(insert_returning(&failing, v).await.unwrap(), v);
        }
        assert!(insert_returning(&failing, good).await.is_err());
        drop(stand_in);
        drop(failing);
        within(member).await.unwrap();
    }
    assert_eq!(committed(&db).await, [1, 3]);
}

#[tokio::test]
async fn a_member_whose_savepoint_never_opened_leaves_the_last_ones_work() {
    let (_dir, db, writer, first) = first_writer().await;
    let (stand_in, first) = deferred_to_a_stand_in(&writer, first).await;
    let second = writer.begin(&db).await.unwrap();
    // As if its first statement had been sent and then dropped before
    // it reached SQLite: there is no savepoint of its own to roll back
    // to, and the one before it (the first member's) must not be used.
    let member = second.member.as_ref().unwrap();
    member
        .opened
        .store(true, std::sync::atomic::Ordering::Release);
    drop(stand_in);
    drop(second);
    within(first).await.unwrap();
    assert_eq!(committed(&db).await, [1]);
}

/// A first writer that left the commit to a writer in line, and a
/// stand-in for that writer, counted in line until dropped.
async fn deferred_to_a_stand_in(
    writer: &Arc<SqliteWriter>,
    first: Txn,
) -> (
    super::Waiting,
    tokio::task::JoinHandle<Result<(), sea_orm::DbErr>>,
) {
    let stand_in = super::Waiting::count(writer);
    let first = tokio::spawn(first.commit());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!first.is_finished());
    (stand_in, first)
}

#[tokio::test]
async fn a_write_outside_the_group_commits_the_group_first() {
    let (_dir, db, writer, first) = first_writer().await;
    let (mut stand_in, first) = deferred_to_a_stand_in(&writer, first).await;
    // A lease, first past the line: SQLite's write lock is the group's
    // until the group commits, so taking the slot commits it.
    let slot = writer.take_alone(true).await;
    within(first).await.unwrap();
    assert_eq!(committed(&db).await, [1]);
    db.execute_unprepared("INSERT INTO t (v) VALUES (10)")
        .await
        .unwrap();
    drop(slot);
    stand_in.arrived = true;
    assert_eq!(committed(&db).await, [1, 10]);
}

#[tokio::test]
async fn a_writer_that_leaves_the_line_still_gets_the_group_committed() {
    let (_dir, db, writer, first) = first_writer().await;
    let (stand_in, first) = deferred_to_a_stand_in(&writer, first).await;
    drop(stand_in);
    within(first).await.unwrap();
    assert_eq!(committed(&db).await, [1]);
}

fn thread_name() -> Option<String> {
    std::thread::current().name().map(str::to_owned)
}

#[tokio::test]
async fn writes_run_on_the_writer_thread() {
    let writer = SqliteWriter::with_thread().unwrap();
    let here = thread_name();
    assert_ne!(here.as_deref(), Some("sqlite-writes"));
    let there = writer.run(async { thread_name() }).await;
    assert_eq!(there.as_deref(), Some("sqlite-writes"));
    // Without a thread of its own, work runs in place.
    assert_eq!(
        SqliteWriter::default().run(async { thread_name() }).await,
        here
    );
}

#[tokio::test]
#[should_panic(expected = "a writing request failed")]
async fn a_panic_on_the_writer_thread_reaches_the_caller() {
    let writer = SqliteWriter::with_thread().unwrap();
    writer
        .run(async { panic!("a writing request failed") })
        .await
}

#[tokio::test]
async fn the_writer_thread_ends_with_the_writer() {
    let writer = SqliteWriter::with_thread().unwrap();
    let (held, released) = tokio::sync::oneshot::channel::<()>();
    let runtime = writer.thread.as_ref().unwrap().runtime.clone();
    runtime.spawn(async move {
        let _held = held;
        std::future::pending::<()>().await
    });
    drop(writer);
    // The runtime shut down and dropped the task it was running.
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), released).await;
    assert!(
        matches!(ended, Ok(Err(_))),
        "the writer thread outlived its writer"
    );
}

#[tokio::test]
async fn a_first_writer_passes_the_queued_ones() {
    let writer = Arc::new(SqliteWriter::with_group_age(GROUP_AGE_IN_TESTS));
    let order = Arc::new(Mutex::new(Vec::new()));
    let held = writer.take(false).await;
    let mut tasks = Vec::new();
    let take = |name: &'static str, first: bool| {
        let (writer, order) = (writer.clone(), order.clone());
        tokio::spawn(async move {
            let _slot = writer.take(first).await;
            order.lock().unwrap().push(name);
        })
    };
    for name in ["api 1", "api 2", "api 3"] {
        tasks.push(take(name, false));
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    tasks.push(take("lease", true));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    drop(held);
    for task in tasks {
        task.await.unwrap();
    }
    // "api 1" was already waiting on the slot itself; the lease goes
    // next, ahead of the writers still in line.
    assert_eq!(*order.lock().unwrap(), ["api 1", "lease", "api 2", "api 3"]);
}

/// The SQLite the build links has the compile options `.cargo/config.toml`
/// asks for (`LIBSQLITE3_FLAGS`): a flag lost on the way (another build of
/// libsqlite3-sys, a cached one) would silently lose what it is there for.
#[tokio::test]
async fn sqlite_is_built_with_the_flags_the_build_asks_for() {
    let db = crate::db::in_memory().await;
    let options: Vec<String> = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA compile_options",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index(0).unwrap())
        .collect();
    for wanted in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"] {
        assert!(
            options.iter().any(|option| option == wanted),
            "{wanted} is not among {options:?}"
        );
    }
}
