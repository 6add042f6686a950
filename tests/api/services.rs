//! PostgreSQL and Redis for the tests that cannot run without them,
//! whatever backends the rest of the suite runs on: taken from
//! `TEST_DATABASE_URL` (or `TEST_POSTGRES_URL`) and `TEST_REDIS_URL`, else
//! from their usual local addresses. A test that finds neither says it was
//! skipped; under `CI=true` it fails instead, so CI never passes a test
//! that did not run.

use std::time::Duration;

const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const LOCAL_REDIS: &str = "redis://127.0.0.1:6379";

/// PostgreSQL's and Redis' URLs, or `None` (and a note) when either is out
/// of reach outside CI.
pub async fn postgres_and_redis(test: &str) -> Option<(String, String)> {
    let (postgres, redis) = (postgres_url(), redis_url());
    let missing = match (
        reaches_postgres(&postgres).await,
        reaches_redis(&redis).await,
    ) {
        (Ok(()), Ok(())) => return Some((postgres, redis)),
        (Err(e), _) => format!("PostgreSQL at {postgres}: {e}"),
        (_, Err(e)) => format!("Redis at {redis}: {e}"),
    };
    missing_in(test, "PostgreSQL and Redis", &missing)
}

/// PostgreSQL's URL, or `None` (and a note) when it is out of reach
/// outside CI.
pub async fn postgres(test: &str) -> Option<String> {
    let postgres = postgres_url();
    match reaches_postgres(&postgres).await {
        Ok(()) => Some(postgres),
        Err(e) => missing_in(test, "PostgreSQL", &format!("{postgres}: {e}")),
    }
}

fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| url.starts_with("postgres"))
        .or_else(|| std::env::var("TEST_POSTGRES_URL").ok())
        .unwrap_or_else(|| LOCAL_POSTGRES.to_owned())
}

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| LOCAL_REDIS.to_owned())
}

/// Fails the test under `CI=true`; elsewhere says it was skipped.
pub fn missing_in<T>(test: &str, needs: &str, missing: &str) -> Option<T> {
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("{test} needs {needs}, and CI must run it; {missing}");
    }
    // Straight to the terminal: the test harness hides what a passing
    // test prints through eprintln!.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: it needs {needs}; {missing}"
    );
    None
}

async fn reaches_postgres(url: &str) -> Result<(), String> {
    let mut options = sea_orm::ConnectOptions::new(url);
    options
        .connect_timeout(Duration::from_secs(3))
        .max_connections(1);
    let db = sea_orm::Database::connect(options)
        .await
        .map_err(|e| e.to_string())?;
    db.close().await.ok();
    Ok(())
}

async fn reaches_redis(url: &str) -> Result<(), String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let mut conn = tokio::time::timeout(
        Duration::from_secs(3),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| "no answer within 3 s".to_owned())?
    .map_err(|e| e.to_string())?;
    redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}
