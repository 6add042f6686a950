use std::sync::OnceLock;

use clap::Parser;
use junction::{cli::Cli, startup::Application};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub database_url: String,
    pub jwt_secret: String,
    _dir: tempfile::TempDir,
}

/// A registered user and the session that registration opened.
pub struct Session {
    pub token: String,
    pub user_id: String,
    pub organization_id: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the server with its own fresh database and any extra flags.
pub async fn spawn_app_with(extra: &[&str]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database(&dir).await;
    let jwt_secret = format!("test-secret-{}", uuid::Uuid::now_v7());
    spawn_on(
        database_url,
        Some(jwt_secret),
        dir,
        &unique_redis_prefix(),
        extra,
    )
    .await
}

/// How test databases' names and test Redis prefixes begin: each goes on
/// with a UUIDv7, by which the clean-up below tells its age.
const TEST_DATABASES: &str = "junction_test_";
const TEST_KEYS: &str = "junction-test-";

/// A port nothing listens on now, for a process a test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Redis key prefix of its own, so tests sharing one Redis never meet.
pub fn unique_redis_prefix() -> String {
    format!("{TEST_KEYS}{}:", uuid::Uuid::now_v7().simple())
}

/// Starts a server on an existing database.
pub async fn spawn_on(
    database_url: String,
    jwt_secret: Option<String>,
    dir: tempfile::TempDir,
    redis_prefix: &str,
    extra: &[&str],
) -> TestApp {
    let mut args = vec![
        "junction".to_owned(),
        "--database-url".into(),
        database_url.clone(),
    ];
    if !extra.contains(&"--bind") {
        args.extend(["--bind".into(), "127.0.0.1:0".into()]);
    }
    // Few connections, so parallel tests do not exhaust PostgreSQL's,
    // unless a test needs writes to run side by side.
    if !extra.contains(&"--database-max-connections") {
        args.extend(["--database-max-connections".into(), "5".into()]);
    }
    if let Some(secret) = &jwt_secret {
        args.extend(["--jwt-secret".into(), secret.clone()]);
    }
    args.extend(secret_key_for(&database_url, extra));
    if let Ok(redis) = std::env::var("TEST_REDIS_URL") {
        drop_stale_test_keys(&redis).await;
        // A test may reach Redis another way (through a proxy).
        if !extra.contains(&"--redis-url") {
            args.extend(["--redis-url".into(), redis]);
        }
        if !extra.contains(&"--redis-prefix") {
            args.extend(["--redis-prefix".into(), redis_prefix.to_owned()]);
        }
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let cli = Cli::try_parse_from(args).expect("test settings parse");
    let app = Application::build(cli.settings)
        .await
        .expect("application builds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    TestApp::at(port, database_url, jwt_secret.unwrap_or_default(), dir)
}

/// The secret key every test process on PostgreSQL shares (it must be
/// named there), unless `flags` name one.
pub const TEST_SECRET_KEY: &str = "anVuY3Rpb24tdGVzdHMtc2VjcmV0LWtleS0zMmJ5dGU=";

pub fn secret_key_for(database_url: &str, flags: &[&str]) -> Vec<String> {
    let named = flags
        .iter()
        .any(|f| *f == "--secret-key" || *f == "--secret-key-file");
    match database_url.starts_with("postgres") && !named {
        true => vec!["--secret-key".into(), TEST_SECRET_KEY.into()],
        false => Vec::new(),
    }
}

/// `n` webhooks to `url`, each wanting `PROJECT_CREATED`.
pub async fn create_webhooks(app: &TestApp, token: &str, url: &str, n: usize) {
    for n in 0..n {
        app.ok(
            Some(token),
            "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }",
            json!({ "i": { "name": format!("hook {n}"), "url": url, "events": ["PROJECT_CREATED"] } }),
        )
        .await;
    }
}

/// `n` projects, `concurrency` requests at a time: one `PROJECT_CREATED`
/// event each.
pub async fn create_projects(app: &TestApp, token: &str, n: usize, concurrency: usize) {
    use futures_util::StreamExt;
    futures_util::stream::iter(0..n)
        .map(|n| {
            app.ok(
                Some(token),
                "mutation($n: String!) { createProject(input: {name: $n}) { id } }",
                json!({ "n": format!("project {n}") }),
            )
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
}

/// A new SQLite file, or a new PostgreSQL database next to TEST_DATABASE_URL.
pub async fn fresh_database(dir: &tempfile::TempDir) -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => fresh_postgres_database(&base).await,
        _ => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("junction.db").display()
        ),
    }
}

/// A new database on the PostgreSQL server `base` names.
pub async fn fresh_postgres_database(base: &str) -> String {
    let name = format!("{TEST_DATABASES}{}", uuid::Uuid::now_v7().simple());
    let admin = Database::connect(base)
        .await
        .expect("connect to PostgreSQL");
    drop_stale_test_databases(&admin).await;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.ok();
    // Same server, user and options (`?sslmode=…`), new database.
    let mut url = url::Url::parse(base).expect("a PostgreSQL URL");
    url.set_path(&name);
    url.into()
}

/// Whether a name made by `unique_redis_prefix` or `fresh_database`, given
/// here without its fixed prefix, was made over an hour ago: a UUIDv7
/// starts with its creation time in milliseconds.
fn made_over_an_hour_ago(id: &str) -> bool {
    let hour_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        .saturating_sub(3_600_000);
    id.get(..12)
        .and_then(|ms| u128::from_str_radix(ms, 16).ok())
        .is_some_and(|made| made < hour_ago)
}

/// Test databases are never dropped by the test that made them (its
/// server still holds connections when it ends), so a run first drops
/// those made over an hour ago. Failures (a run beside this one dropping
/// the same one, a database still in use) are left for a later run. Once
/// per test binary: the first test to get here does it for all.
async fn drop_stale_test_databases(admin: &sea_orm::DatabaseConnection) {
    use sea_orm::Statement;
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if DONE.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let Ok(rows) = admin
        .query_all_raw(Statement::from_string(
            admin.get_database_backend(),
            format!(
                "SELECT datname FROM pg_database WHERE datname LIKE '{}%'",
                TEST_DATABASES.replace('_', "\\_")
            ),
        ))
        .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get_by_index::<String>(0) else {
            continue;
        };
        if name
            .strip_prefix(TEST_DATABASES)
            .is_some_and(made_over_an_hour_ago)
        {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                .await;
        }
    }
}

/// The same for Redis: a test's queue and channels outlive it under its
/// prefix. A Redis with many stale keys also slowed the fault test's key
/// listing past the client's response timeout.
async fn drop_stale_test_keys(url: &str) {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if DONE.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let Ok(client) = redis::Client::open(url) else {
        return;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let stale = matching_keys(&mut conn, &format!("{TEST_KEYS}*"), |key| {
        key.strip_prefix(TEST_KEYS)
            .is_some_and(made_over_an_hour_ago)
    })
    .await;
    for chunk in stale.chunks(1000) {
        let _: redis::RedisResult<()> =
            redis::cmd("UNLINK").arg(chunk).query_async(&mut conn).await;
    }
}

/// The keys matching `pattern` (and `keep`), listed with SCAN: KEYS blocks
/// Redis for the whole keyspace at once.
pub async fn matching_keys(
    conn: &mut redis::aio::MultiplexedConnection,
    pattern: &str,
    keep: impl Fn(&str) -> bool,
) -> Vec<String> {
    use redis::AsyncCommands;
    let mut found = Vec::new();
    if let Ok(mut keys) = conn.scan_match::<_, String>(pattern).await {
        while let Some(Ok(key)) = keys.next_item().await {
            if keep(&key) {
                found.push(key);
            }
        }
    }
    found
}

static COUNTER: OnceLock<std::sync::atomic::AtomicU64> = OnceLock::new();

/// A unique e-mail per call, so tests never collide.
pub fn unique_email(label: &str) -> String {
    let n = COUNTER
        .get_or_init(Default::default)
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{label}-{n}-{}@example.com", uuid::Uuid::now_v7().simple())
}

/// An HTTP client for tests; the TLS provider must exist before any client.
pub fn client() -> reqwest::Client {
    junction::startup::install_crypto_provider();
    reqwest::Client::new()
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// Reaches a server listening on `port` of loopback, whose database is
    /// `database_url` (its SQLite file, if any, in `dir`).
    pub fn at(port: u16, database_url: String, jwt_secret: String, dir: tempfile::TempDir) -> Self {
        Self {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: client(),
            database_url,
            jwt_secret,
            _dir: dir,
        }
    }

    /// POSTs a GraphQL operation; returns the status and the JSON body.
    pub async fn graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        (status, response.json().await.expect("JSON body"))
    }

    /// A plain GET of `path` (no credentials).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent")
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.get("/metrics").await.text().await.expect("text body")
    }

    /// Runs an operation that must succeed; returns `data`.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let (status, body) = self.graphql(token, query, variables).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Runs an operation that must fail; returns the first error's code.
    pub async fn error_code(&self, token: Option<&str>, query: &str, variables: Value) -> String {
        let (_, body) = self.graphql(token, query, variables).await;
        code_of(&body).unwrap_or_else(|| panic!("expected an error: {body}"))
    }

    pub async fn register(&self, label: &str) -> Session {
        let email = unique_email(label);
        let data = self
            .ok(
                None,
                "mutation($input: RegisterInput!) { register(input: $input) { token user { id } organization { id } } }",
                json!({ "input": { "email": email, "name": label, "password": PASSWORD, "organizationName": format!("{label} corp") } }),
            )
            .await;
        Session {
            token: data["register"]["token"].as_str().unwrap().to_owned(),
            user_id: data["register"]["user"]["id"].as_str().unwrap().to_owned(),
            organization_id: data["register"]["organization"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        }
    }

    /// Registers a person with their own organization; returns their
    /// e-mail and session token.
    pub async fn person(&self, label: &str) -> (String, String) {
        let email = unique_email(label);
        let data = self
            .ok(
                None,
                "mutation($input: RegisterInput!) { register(input: $input) { token } }",
                json!({ "input": { "email": email, "name": label, "password": PASSWORD, "organizationName": format!("{label} corp") } }),
            )
            .await;
        let token = data["register"]["token"].as_str().unwrap().to_owned();
        (email, token)
    }

    /// A new user who joins the organization of `admin` with `role`, as
    /// people join: they register, `admin` invites their e-mail, and they
    /// accept. Returns their session there and their membership's id.
    pub async fn add_member(&self, admin: &Session, label: &str, role: &str) -> (Session, String) {
        let (email, own) = self.person(label).await;
        let invited = self
            .ok(
                Some(&admin.token),
                "mutation($input: AddMemberInput!) { addMember(input: $input) { id token } }",
                json!({ "input": { "email": email, "role": role } }),
            )
            .await;
        let accepted = self
            .ok(
                Some(&own),
                "mutation($id: ID!, $t: String!) { acceptInvitation(id: $id, token: $t) { token user { id } } }",
                json!({ "id": invited["addMember"]["id"], "t": invited["addMember"]["token"] }),
            )
            .await;
        let session = Session {
            token: accepted["acceptInvitation"]["token"]
                .as_str()
                .unwrap()
                .to_owned(),
            user_id: accepted["acceptInvitation"]["user"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
            organization_id: admin.organization_id.clone(),
        };
        let members = self
            .ok(
                Some(&session.token),
                "{ members(first: 100) { edges { node { id user { id } } } } }",
                json!({}),
            )
            .await;
        let member_id = members["members"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["user"]["id"] == session.user_id.as_str())
            .expect("a member now")["node"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        (session, member_id)
    }

    pub async fn login(&self, email: &str, organization_id: Option<&str>) -> Session {
        let data = self
            .ok(
                None,
                "mutation($input: LoginInput!) { login(input: $input) { token user { id } organization { id } } }",
                json!({ "input": { "email": email, "password": PASSWORD, "organizationId": organization_id } }),
            )
            .await;
        Session {
            token: data["login"]["token"].as_str().unwrap().to_owned(),
            user_id: data["login"]["user"]["id"].as_str().unwrap().to_owned(),
            organization_id: data["login"]["organization"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        }
    }

    /// A project (a chat room) of `session`'s organization; returns its id.
    pub async fn create_project(&self, session: &Session, name: &str) -> String {
        let data = self
            .ok(
                Some(&session.token),
                "mutation($n: String!) { createProject(input: {name: $n}) { id } }",
                json!({ "n": name }),
            )
            .await;
        data["createProject"]["id"].as_str().unwrap().to_owned()
    }

    /// A todo list titled "L" in `project`; returns its id.
    pub async fn create_todo_list(&self, session: &Session, project: &str) -> String {
        let data = self
            .ok(
                Some(&session.token),
                "mutation($p: ID!) { createTodoList(projectId: $p, title: \"L\") { id } }",
                json!({ "p": project }),
            )
            .await;
        data["createTodoList"]["id"].as_str().unwrap().to_owned()
    }

    pub async fn create_api_token(&self, session: &Session, name: &str) -> (String, String) {
        let data = self
            .ok(
                Some(&session.token),
                "mutation($name: String!) { createApiToken(name: $name) { token apiToken { id } } }",
                json!({ "name": name }),
            )
            .await;
        (
            data["createApiToken"]["token"].as_str().unwrap().to_owned(),
            data["createApiToken"]["apiToken"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
    }

    /// Events recorded since the last call (oldest first), for asserting that
    /// a mutation emitted exactly what it should.
    pub async fn new_events(&self, token: &str, seen: &mut u64) -> Vec<Value> {
        let data = self
            .ok(
                Some(token),
                "{ events(first: 100) { totalCount edges { node { type projectId actorId currentValue previousValue } } } }",
                json!({}),
            )
            .await;
        let total = data["events"]["totalCount"].as_u64().unwrap();
        let fresh = (total - *seen) as usize;
        *seen = total;
        let mut events: Vec<Value> = data["events"]["edges"].as_array().unwrap()[..fresh]
            .iter()
            .map(|e| e["node"].clone())
            .collect();
        events.reverse();
        events
    }

    /// Counts rows of a table straight from the database, to prove that a
    /// refused request changed nothing.
    pub async fn count_rows(&self, table: &str) -> i64 {
        self.count_where(table, "1 = 1").await
    }

    /// Runs SQL straight on the database, as another process would.
    pub async fn execute_sql(&self, sql: &str) {
        let db = Database::connect(&self.database_url)
            .await
            .expect("connect");
        db.execute_unprepared(sql).await.expect("statement");
        db.close().await.ok();
    }

    /// Blocks every write to `table` (on SQLite, every write) from another
    /// connection until [`TestApp::release_writes`], as a long transaction
    /// of another process would.
    pub async fn hold_writes(&self, table: &str) -> sea_orm::DatabaseConnection {
        let mut options = sea_orm::ConnectOptions::new(self.database_url.clone());
        options.max_connections(1);
        let db = Database::connect(options).await.expect("connect");
        if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
            db.execute_unprepared("BEGIN IMMEDIATE")
                .await
                .expect("lock");
        } else {
            db.execute_unprepared("BEGIN").await.expect("begin");
            db.execute_unprepared(&format!("LOCK TABLE {table} IN SHARE MODE"))
                .await
                .expect("lock");
        }
        db
    }

    pub async fn release_writes(&self, db: sea_orm::DatabaseConnection) {
        db.execute_unprepared("COMMIT").await.expect("unlock");
        db.close().await.ok();
    }

    /// Counts rows of a table that satisfy an SQL condition.
    pub async fn count_where(&self, table: &str, condition: &str) -> i64 {
        self.scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {condition}"))
            .await
    }

    /// The integer an SQL query's one row and column hold.
    pub async fn scalar(&self, sql: &str) -> i64 {
        let db = Database::connect(&self.database_url)
            .await
            .expect("connect");
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .expect("query")
            .expect("one row");
        let n: i64 = row.try_get_by_index(0).expect("an integer");
        db.close().await.ok();
        n
    }
}

pub fn code_of(body: &Value) -> Option<String> {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
}

pub const ME: &str = "{ me { user { id email } organization { id } role apiTokenId } }";
