//! PostgreSQL for unit tests that cannot run without it, whatever database
//! the suite runs on: `TEST_DATABASE_URL` when it names PostgreSQL, else
//! `TEST_POSTGRES_URL`, else the local default. A test that finds none says
//! it was skipped; under `CI=true` it fails instead.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A connection to a new, empty database of its own, or `None` (and a
/// note) when PostgreSQL is out of reach outside CI.
pub async fn postgres(test: &str) -> Option<DatabaseConnection> {
    let base = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| url.starts_with("postgres"))
        .or_else(|| std::env::var("TEST_POSTGRES_URL").ok())
        .unwrap_or_else(|| LOCAL_POSTGRES.to_owned());
    let admin = match Database::connect(&base).await {
        Ok(admin) => admin,
        Err(error) if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("{test} needs PostgreSQL, and CI must run it: {base}: {error}")
        }
        Err(error) => {
            eprintln!("skipped {test}: it needs PostgreSQL; {base}: {error}");
            return None;
        }
    };
    let name = format!("junction_test_{}", uuid::Uuid::now_v7().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    admin.close().await.ok();
    let mut url = url::Url::parse(&base).expect("a PostgreSQL URL");
    url.set_path(&name);
    Some(Database::connect(url.as_str()).await.expect("connect"))
}
