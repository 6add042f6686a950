//! Outbound delivery throughput and latency, everything on this machine:
//! the real server (and, with PostgreSQL + Redis, a separate `junction
//! worker` process), the database, Redis, this process's clients creating
//! todos through the API, and a local receiver timing each arrival.
//!
//! Event-to-delivery latency is the receiver's clock at arrival minus the
//! todo's `createdAt` in the payload (same machine, same clock).
//!
//! cargo bench --bench deliveries
//! BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/postgres BENCH_REDIS_URL=redis://127.0.0.1:6379 cargo bench --bench deliveries

mod support;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use support::{CpuUse, Figures, Server, concurrency, gql, load, posting, run_seconds};

const CREATE: &str =
    "mutation($l: ID!, $t: String!) { createTodo(input: {todoListId: $l, title: $t}) { id } }";
const READ: &str =
    "query($p: ID!) { project(id: $p) { todos(first: 20) { edges { node { id title done } } } } }";

/// Arrivals at the receiver and their event-to-delivery latencies.
#[derive(Default)]
struct Arrivals {
    count: AtomicUsize,
    latencies: Mutex<Vec<Duration>>,
    last: Mutex<Option<Instant>>,
}

impl Arrivals {
    fn reset(&self) {
        self.count.store(0, Ordering::SeqCst);
        self.latencies.lock().unwrap().clear();
        *self.last.lock().unwrap() = None;
    }
}

async fn receive(body: web::Bytes, arrivals: web::Data<Arrivals>) -> HttpResponse {
    let now = Utc::now();
    if let Ok(payload) = serde_json::from_slice::<Value>(&body)
        && let Some(created) = payload["currentValue"]["createdAt"].as_str()
        && let Ok(created) = created.parse::<DateTime<Utc>>()
    {
        let latency = (now - created).to_std().unwrap_or_default();
        arrivals.latencies.lock().unwrap().push(latency);
    }
    arrivals.count.fetch_add(1, Ordering::SeqCst);
    *arrivals.last.lock().unwrap() = Some(Instant::now());
    HttpResponse::Ok().finish()
}

fn start_receiver() -> (String, Arc<Arrivals>) {
    let arrivals = Arc::new(Arrivals::default());
    let data = web::Data::from(arrivals.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(receive))
    })
    .workers(1)
    .backlog(4096)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}/hook"), arrivals)
}

/// Waits until `expected` deliveries have arrived (or 120 s pass).
async fn drained(arrivals: &Arrivals, expected: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while arrivals.count.load(Ordering::SeqCst) < expected {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

fn print_delivery(label: &str, arrivals: &Arrivals, started: Instant, expected: usize) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let delivered = arrivals.count.load(Ordering::SeqCst);
    let last = arrivals.last.lock().unwrap().unwrap_or(started);
    let figures = Figures {
        label: String::new(),
        latencies: arrivals.latencies.lock().unwrap().clone(),
        errors: 0,
        elapsed: last - started,
    };
    println!(
        "{label:<44} {:>9.0} deliveries/s   event→delivery p50 {:>7.2} ms   p99 {:>8.2} ms   ({delivered} of {expected} delivered)",
        delivered as f64 / (last - started).as_secs_f64(),
        ms(figures.percentile(0.50)),
        ms(figures.percentile(0.99)),
    );
}

struct Workspace {
    token: String,
    project: String,
    list: String,
}

async fn workspace(client: &reqwest::Client, base: &str) -> Workspace {
    let support::Owner { token, project, .. } = support::owner_with_project(client, base).await;
    let list = gql(
        client,
        base,
        Some(&token),
        "mutation($p: ID!) { createTodoList(projectId: $p, title: \"L\") { id } }",
        json!({ "p": project }),
    )
    .await["createTodoList"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Workspace {
        token,
        project,
        list,
    }
}

async fn add_webhooks(client: &reqwest::Client, base: &str, ws: &Workspace, url: &str, n: usize) {
    for i in 0..n {
        gql(
            client,
            base,
            Some(&ws.token),
            "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }",
            json!({ "i": { "name": format!("bench {i}"), "url": url, "events": ["TODO_CREATED"] } }),
        )
        .await;
    }
}

fn creating(
    client: &reqwest::Client,
    base: &str,
    ws: &Workspace,
) -> impl Fn(usize) -> std::pin::Pin<Box<dyn Future<Output = bool> + Send>> + Clone + Send + 'static
{
    let list = ws.list.clone();
    posting(
        client,
        base,
        &ws.token,
        move |i| json!({ "query": CREATE, "variables": { "l": list, "t": format!("todo {i}") } }),
    )
}

async fn run(label: &str, postgres: Option<&str>, redis: Option<&str>) {
    let mut env: Vec<(&str, String)> = vec![("ALLOW_PRIVATE_TARGETS", "true".into())];
    if let Some(redis) = redis {
        support::drop_earlier_bench_keys(redis).await;
        env.push(("REDIS_URL", redis.into()));
        env.push(("REDIS_PREFIX", support::redis_prefix()));
        env.push(("IN_PROCESS_WORKERS", "false".into()));
    }
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start(postgres, &env_refs).await;
    let worker = redis.map(|_| server.worker(&env_refs));
    junction::startup::install_crypto_provider();
    let client = support::client();
    let base = server.base.clone();
    let ws = workspace(&client, &base).await;
    let (url, arrivals) = start_receiver();
    let seconds = run_seconds();
    println!("-- {label}");
    // Where the deliveries' CPU goes: the server alone, or the server
    // (the API's side of each event) and the worker (the attempts).
    let mut processes = vec![("server", server.pid())];
    processes.extend(worker.as_ref().map(|w| ("worker", w.pid())));

    // 1. One webhook, as many events as the API takes.
    add_webhooks(&client, &base, &ws, &url, 1).await;
    arrivals.reset();
    let cpu = CpuUse::start(&processes);
    let started = Instant::now();
    let made = load(
        "  createTodo (events created)",
        concurrency(),
        seconds,
        1_000_000,
        creating(&client, &base, &ws),
    )
    .await;
    made.print();
    let expected = made.latencies.len();
    drained(&arrivals, expected).await;
    print_delivery("  one webhook, end to end", &arrivals, started, expected);
    cpu.print("  one webhook, end to end", expected, "delivery");

    // 2. A steady rate (BENCH_RATE, default the 1,000 events/s the
    // latency goal is set at): the latency of the delivery path itself,
    // not of a backlog. The line says how many the API actually made.
    let rate: u64 = std::env::var("BENCH_RATE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1000);
    arrivals.reset();
    let sent = Arc::new(AtomicUsize::new(0));
    // Past what the server can take it refuses (503): counted, not made.
    let failed = Arc::new(AtomicUsize::new(0));
    let cpu = CpuUse::start(&processes);
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    let make = creating(&client, &base, &ws);
    let mut tasks = Vec::new();
    let mut i = 0;
    while started.elapsed() < seconds {
        tick.tick().await;
        let (make, sent, failed) = (make.clone(), sent.clone(), failed.clone());
        i += 1;
        tasks.push(tokio::spawn(async move {
            let counter = if make(1_000_000 + i).await {
                sent
            } else {
                failed
            };
            counter.fetch_add(1, Ordering::SeqCst);
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let expected = sent.load(Ordering::SeqCst);
    let achieved = expected as f64 / started.elapsed().as_secs_f64();
    drained(&arrivals, expected).await;
    print_delivery(
        &format!(
            "  steady {rate}/s asked ({achieved:.0}/s made, {} failed)",
            failed.load(Ordering::SeqCst)
        ),
        &arrivals,
        started,
        expected,
    );
    cpu.print("  steady", expected, "delivery");

    // 3. Fan-out: every event to 100 webhooks, while readers keep reading.
    add_webhooks(&client, &base, &ws, &url, 99).await;
    arrivals.reset();
    let cpu = CpuUse::start(&processes);
    let started = Instant::now();
    let writers = load(
        "  createTodo during fan-out",
        4,
        seconds,
        1_000_000,
        creating(&client, &base, &ws),
    );
    let project = ws.project.clone();
    let readers = load(
        "  read during fan-out",
        4,
        seconds,
        1_000_000,
        posting(
            &client,
            &base,
            &ws.token,
            move |_| json!({ "query": READ, "variables": { "p": project } }),
        ),
    );
    let (writers, readers) = tokio::join!(writers, readers);
    writers.print();
    readers.print();
    let expected = writers.latencies.len() * 100;
    drained(&arrivals, expected).await;
    print_delivery("  fan-out to 100 webhooks", &arrivals, started, expected);
    cpu.print(
        "  fan-out, the reads meanwhile included",
        expected,
        "delivery",
    );

    let (_, server_peak) = server.rss_mib();
    match &worker {
        Some(worker) => println!(
            "  RSS peak: server {server_peak:.1} MiB, worker {:.1} MiB",
            worker.rss_mib().1
        ),
        None => println!("  RSS peak: server with in-process workers {server_peak:.1} MiB"),
    }
}

#[tokio::main]
async fn main() {
    if support::run_sqlite() {
        run(
            "embedded defaults: SQLite, in-process workers, embedded queue",
            None,
            None,
        )
        .await;
    }
    if let (Ok(pg), Ok(redis)) = (
        std::env::var("BENCH_POSTGRES_URL"),
        std::env::var("BENCH_REDIS_URL"),
    ) {
        run(
            "PostgreSQL + Redis: serve + one junction worker process",
            Some(&pg),
            Some(&redis),
        )
        .await;
    }
}
