//! What every benchmark shares: the real `junction` binary started as its
//! own process on a fresh database, a bounded load loop, and the figures.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

/// A `junction serve` process (release build) on its own port and database.
pub struct Server {
    child: Child,
    pub base: String,
    pub database_url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How bench databases' names and bench Redis prefixes begin.
const BENCH_DATABASES: &str = "junction_bench_";
const BENCH_KEYS: &str = "bench-";

/// A Redis key prefix of this run's own.
pub fn redis_prefix() -> String {
    format!("{BENCH_KEYS}{}:", uuid::Uuid::now_v7().simple())
}

/// Each run's database outlives it (its server still holds connections
/// when the run ends); the next run drops every earlier one. PostgreSQL
/// refuses to drop a database still in use, so one of a benchmark running
/// beside this one stays.
async fn drop_earlier_bench_databases(admin: &sea_orm::DatabaseConnection) {
    use sea_orm::{ConnectionTrait, Statement};
    let Ok(rows) = admin
        .query_all_raw(Statement::from_string(
            admin.get_database_backend(),
            format!(
                "SELECT datname FROM pg_database WHERE datname LIKE '{}%'",
                BENCH_DATABASES.replace('_', "\\_")
            ),
        ))
        .await
    else {
        return;
    };
    for row in rows {
        if let Ok(name) = row.try_get_by_index::<String>(0) {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                .await;
        }
    }
}

/// Each run's queue also outlives it in Redis under its `bench-…` prefix
/// (tens of thousands of keys after a fan-out); the next run deletes them.
pub async fn drop_earlier_bench_keys(url: &str) {
    use redis::AsyncCommands;
    let Ok(client) = redis::Client::open(url) else {
        return;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let mut earlier = Vec::new();
    if let Ok(mut keys) = conn.scan_match::<_, String>(format!("{BENCH_KEYS}*")).await {
        while let Some(Ok(key)) = keys.next_item().await {
            earlier.push(key);
        }
    }
    for chunk in earlier.chunks(1000) {
        let _: redis::RedisResult<()> =
            redis::cmd("UNLINK").arg(chunk).query_async(&mut conn).await;
    }
}

/// A fresh database: SQLite in a temp dir, or a new PostgreSQL database
/// beside `postgres_base`.
pub async fn fresh_database(dir: &tempfile::TempDir, postgres_base: Option<&str>) -> String {
    match postgres_base {
        None => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        ),
        Some(base) => {
            use sea_orm::ConnectionTrait;
            let name = format!("{BENCH_DATABASES}{}", uuid::Uuid::now_v7().simple());
            let admin = sea_orm::Database::connect(base)
                .await
                .expect("connect to PostgreSQL");
            drop_earlier_bench_databases(&admin).await;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            admin.close().await.ok();
            // Same server, user and options (`?sslmode=…`), new database.
            let mut url = url::Url::parse(base).expect("BENCH_POSTGRES_URL is a URL");
            url.set_path(&name);
            url.into()
        }
    }
}

impl Server {
    pub async fn start(postgres_base: Option<&str>, extra_env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let database_url = fresh_database(&dir, postgres_base).await;
        let port = free_port();
        let mut command = junction_command("serve", &database_url, extra_env);
        command
            .env("BIND", format!("127.0.0.1:{port}"))
            .current_dir(dir.path());
        let child = command.spawn().expect("start junction");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            database_url,
            _dir: dir,
        };
        junction::startup::install_crypto_provider();
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "server did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    /// A `junction worker` process on this server's database, with `env`.
    pub fn worker(&self, extra_env: &[(&str, &str)]) -> Process {
        let child = junction_command("worker", &self.database_url, extra_env)
            .spawn()
            .expect("start junction worker");
        Process { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// (current, peak) resident memory of the server process, in MiB.
    pub fn rss_mib(&self) -> (f64, f64) {
        rss_mib(self.pid())
    }
}

/// Another `junction` process, killed when dropped.
pub struct Process {
    child: Child,
}

impl Process {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn rss_mib(&self) -> (f64, f64) {
        rss_mib(self.pid())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Settings passed through from the benchmark's own environment, to
/// measure the server tuned otherwise than by its defaults.
const PASSED_THROUGH: [&str; 2] = ["DATABASE_MAX_CONNECTIONS", "WORKER_CONCURRENCY"];

/// The release binary with a clean environment.
fn junction_command(subcommand: &str, database_url: &str, extra_env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_junction"));
    command
        .arg(subcommand)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("JWT_SECRET", "benchmark-secret-benchmark-secret-0123")
        // One key for every process of a run (PostgreSQL needs it named).
        .env("SECRET_KEY", "anVuY3Rpb24tYmVuY2gtc2VjcmV0LWtleS0zMmJ5dGU=")
        .env("RUST_LOG", "warn")
        // Logs go to stdout: onto the benchmark's stderr, so that a warning
        // during a run is seen beside the figures rather than lost.
        .stdout(std::io::stderr())
        .stderr(Stdio::inherit());
    for key in PASSED_THROUGH {
        if let Ok(value) = std::env::var(key) {
            command.env(key, value);
        }
    }
    for (key, value) in extra_env {
        command.env(key, value);
    }
    command
}

/// (current, peak) resident memory of a process, in MiB.
pub fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time (user and system) a process has used so far, in seconds, from
/// `/proc` (0 where there is none).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command's name, which is in parentheses and may
    // hold spaces: utime and stime are the 12th and 13th, in clock ticks
    // (USER_HZ, 100 on Linux).
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    (ticks(11).unwrap_or(0.0) + ticks(12).unwrap_or(0.0)) / 100.0
}

/// The CPU time a phase's work costs, per request or per delivery:
/// junction's own processes, and the rest of what shares the cores
/// (PostgreSQL's and Redis' processes, found by name, and this benchmark,
/// the load generator and receiver) up to the whole machine's busy time.
/// On a machine where all of them share two cores, it says which process a
/// change made cheaper, where a rate only says that the cores did more;
/// and the machine's total per unit bounds the rate two cores can reach.
pub struct CpuUse {
    processes: Vec<(&'static str, u32, f64)>,
    /// Per service (label, process name): each of its processes' CPU
    /// time at the start.
    services: Vec<(&'static str, &'static str, HashMap<u32, f64>)>,
    benchmark: f64,
    machine: f64,
}

/// The services besides junction whose CPU time a phase also costs, by the
/// name their processes run under.
const SERVICES: [(&str, &str); 2] = [("postgres", "postgres"), ("redis", "redis-server")];

/// The ids of the processes running `name`.
fn processes_named(name: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == name)
        })
        .collect()
}

/// CPU time the whole machine has been busy so far (every core, idle and
/// waiting on I/O left out), in seconds, from `/proc/stat`.
fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …
    let busy: f64 = ticks.iter().take(8).sum::<f64>()
        - ticks.get(3).unwrap_or(&0.0)
        - ticks.get(4).unwrap_or(&0.0);
    busy / 100.0
}

impl CpuUse {
    /// Starts counting for the named junction processes and the rest.
    pub fn start(processes: &[(&'static str, u32)]) -> Self {
        Self {
            processes: processes
                .iter()
                .map(|&(name, pid)| (name, pid, cpu_seconds(pid)))
                .collect(),
            services: SERVICES
                .iter()
                .map(|&(label, name)| {
                    let pids = processes_named(name);
                    (
                        label,
                        name,
                        pids.into_iter().map(|p| (p, cpu_seconds(p))).collect(),
                    )
                })
                .collect(),
            benchmark: cpu_seconds(std::process::id()),
            machine: machine_busy_seconds(),
        }
    }

    /// Prints the CPU time spent since `start` per `unit` of `units` done.
    pub fn print(&self, label: &str, units: usize, unit: &str) {
        let per = |seconds: f64| seconds * 1e6 / units.max(1) as f64;
        let mut spent: Vec<String> = self
            .processes
            .iter()
            .map(|&(name, pid, before)| format!("{name} {:.0} µs", per(cpu_seconds(pid) - before)))
            .collect();
        for (label, name, before) in &self.services {
            // Processes started since (a new connection's backend) count
            // whole; those that ended are lost.
            let seconds: f64 = processes_named(name)
                .into_iter()
                .map(|pid| cpu_seconds(pid) - before.get(&pid).copied().unwrap_or(0.0))
                .sum();
            spent.push(format!("{label} {:.0} µs", per(seconds)));
        }
        spent.push(format!(
            "benchmark {:.0} µs",
            per(cpu_seconds(std::process::id()) - self.benchmark)
        ));
        println!(
            "{label:<44} CPU per {unit}: {}; machine {:.0} µs",
            spent.join(", "),
            per(machine_busy_seconds() - self.machine)
        );
    }
}

/// The load generator's HTTP client: enough idle connections for every
/// concurrent client.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap()
}

/// A registered owner and a project of theirs, the set-up every benchmark
/// starts from.
pub struct Owner {
    pub token: String,
    pub user_id: String,
    pub project: String,
}

pub async fn owner_with_project(client: &reqwest::Client, base: &str) -> Owner {
    let register = "mutation { register(input: {email: \"bench@example.com\", name: \"Bench\", password: \"benchmark-password\", organizationName: \"Bench\"}) { token user { id } } }";
    let session = gql(client, base, None, register, json!({})).await;
    let token = session["register"]["token"].as_str().unwrap().to_owned();
    let user_id = session["register"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let project = gql(
        client,
        base,
        Some(&token),
        "mutation { createProject(input: {name: \"Bench\"}) { id } }",
        json!({}),
    )
    .await["createProject"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Owner {
        token,
        user_id,
        project,
    }
}

/// GraphQL over HTTP with a bearer token; panics on errors (set-up only).
pub async fn gql(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body: Value = request.send().await.unwrap().json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

/// A request for [`load`]: the GraphQL body `body(i)`, posted with `token`.
pub fn posting(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: impl Fn(usize) -> Value + Clone + Send + 'static,
) -> impl Fn(usize) -> std::pin::Pin<Box<dyn Future<Output = bool> + Send>> + Clone + Send + 'static
{
    let (client, base, token) = (client.clone(), base.to_owned(), token.to_owned());
    move |i| {
        let (client, base, token, body) = (client.clone(), base.clone(), token.clone(), body(i));
        Box::pin(async move { post_ok(&client, &base, &token, body).await })
    }
}

/// One measured GraphQL POST: true when it answered 2xx without `errors`.
pub async fn post_ok(client: &reqwest::Client, base: &str, token: &str, body: Value) -> bool {
    let response = client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await;
    match response {
        Ok(r) if r.status().is_success() => r
            .bytes()
            .await
            .is_ok_and(|b| !b.windows(8).any(|w| w == b"\"errors\"")),
        _ => false,
    }
}

/// Latencies of one run, and how many requests failed.
pub struct Figures {
    pub label: String,
    pub latencies: Vec<Duration>,
    pub errors: usize,
    pub elapsed: Duration,
}

impl Figures {
    pub fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
    }

    pub fn print(&self) {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{:<44} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests, {} errors)",
            self.label,
            self.latencies.len() as f64 / self.elapsed.as_secs_f64(),
            ms(self.percentile(0.50)),
            ms(self.percentile(0.99)),
            self.latencies.len(),
            self.errors,
        );
    }
}

/// Runs `request` from `concurrency` tasks for `duration` (bounded in time
/// and count) and collects latencies of the successful ones.
pub async fn load<F, Fut>(
    label: &str,
    concurrency: usize,
    duration: Duration,
    max_requests: usize,
    request: F,
) -> Figures
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let started = Instant::now();
    let per_task = max_requests / concurrency;
    let mut tasks = Vec::new();
    for task in 0..concurrency {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::with_capacity(per_task), 0);
            for i in 0..per_task {
                if started.elapsed() >= duration {
                    break;
                }
                let sent = Instant::now();
                if request(task * per_task + i).await {
                    latencies.push(sent.elapsed());
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut figures = Figures {
        label: label.to_owned(),
        latencies: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        let (latencies, errors) = task.await.unwrap();
        figures.latencies.extend(latencies);
        figures.errors += errors;
    }
    figures.elapsed = started.elapsed();
    figures
}

/// Seconds per measured run (`BENCH_SECONDS`, default 10).
pub fn run_seconds() -> Duration {
    Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10),
    )
}

/// Whether to run the embedded-defaults (SQLite) pass: `BENCH_SKIP_SQLITE`
/// set skips it, to measure PostgreSQL (+ Redis) alone.
pub fn run_sqlite() -> bool {
    std::env::var_os("BENCH_SKIP_SQLITE").is_none()
}

/// Concurrent clients (`BENCH_CONCURRENCY`, default 32).
pub fn concurrency() -> usize {
    std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32)
}
