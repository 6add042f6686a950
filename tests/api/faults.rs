//! Fault tests for delivery, on PostgreSQL + Redis (see `services`): a worker
//! process killed mid-burst, the queue wiped from Redis mid-burst, and
//! Redis stalled for a second.
//! Every delivery must still arrive; duplicates only with the same
//! `webhook-id`.

use std::{
    collections::HashSet,
    process::{Child, Command},
    time::Duration,
};

use serde_json::json;

use crate::{
    helpers::*,
    processes::{serve_process, terminate, worker_process},
    receiver::{Answer, Receiver},
    services,
};

const WEBHOOKS: usize = 20;
const EVENTS: usize = 100;
const DELIVERIES: usize = WEBHOOKS * EVENTS;

/// Creates the webhooks, then the events, all at once: WEBHOOKS × EVENTS
/// deliveries.
async fn burst(app: &TestApp, token: &str, url: &str) {
    create_webhooks(app, token, url, WEBHOOKS).await;
    create_projects(app, token, EVENTS, EVENTS).await;
}

/// A server on a fresh database with its own Redis prefix (which a worker
/// process must share), and its owner.
async fn spawn_with_prefix(
    (postgres, redis): &(String, String),
    prefix: &str,
    flags: &[&str],
) -> (TestApp, Session) {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_postgres_database(postgres).await;
    let secret = format!("test-secret-{}", uuid::Uuid::now_v7());
    let mut all = vec!["--redis-prefix", prefix];
    if !flags.contains(&"--redis-url") {
        all.extend(["--redis-url", redis]);
    }
    all.extend(flags);
    let app = spawn_on(database_url, Some(secret), dir, prefix, &all).await;
    let owner = app.register("owner").await;
    (app, owner)
}

/// The API alone: `junction worker` processes deliver.
const NO_WORKERS: &[&str] = &["--allow-private-targets", "--in-process-workers", "false"];

fn start_worker(app: &TestApp, redis: &str, prefix: &str) -> Child {
    worker_process(
        app,
        redis,
        prefix,
        &[
            "--sweep-interval-ms",
            "200",
            "--sweep-grace-seconds",
            "1",
            "--worker-concurrency",
            "32",
        ],
    )
}

#[tokio::test]
async fn a_worker_killed_mid_burst_loses_no_delivery() {
    let Some(services) =
        services::postgres_and_redis("a_worker_killed_mid_burst_loses_no_delivery").await
    else {
        return;
    };
    let redis = services.1.clone();
    let prefix = unique_redis_prefix();
    let (app, owner) = spawn_with_prefix(&services, &prefix, NO_WORKERS).await;
    // Slow answers keep attempts in flight when the worker dies.
    let mut receiver = Receiver::start(Answer::Slow(Duration::from_millis(20))).await;
    let mut worker = start_worker(&app, &redis, &prefix);

    burst(&app, &owner.token, &receiver.url).await;
    let mut seen = HashSet::new();
    let before = receiver
        .collect(&mut seen, 300, Duration::from_secs(60))
        .await;
    worker.kill().expect("SIGKILL");
    worker.wait().unwrap();
    let mut worker = start_worker(&app, &redis, &prefix);

    let requests = before
        + receiver
            .collect(&mut seen, DELIVERIES, Duration::from_secs(120))
            .await;
    assert_eq!(seen.len(), DELIVERIES);
    assert_eq!(app.count_rows("deliveries").await, DELIVERIES as i64);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while app.count_where("deliveries", "status = 'SUCCEEDED'").await < DELIVERIES as i64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every delivery settled"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.kill().ok();
    worker.wait().ok();
    eprintln!("{requests} requests for {DELIVERIES} deliveries");
}

#[tokio::test]
async fn a_queue_wiped_from_redis_mid_burst_loses_no_delivery() {
    let Some(services) =
        services::postgres_and_redis("a_queue_wiped_from_redis_mid_burst_loses_no_delivery").await
    else {
        return;
    };
    let redis = services.1.clone();
    let prefix = unique_redis_prefix();
    let (app, owner) = spawn_with_prefix(
        &services,
        &prefix,
        &[
            "--allow-private-targets",
            "--delivery-timeout-seconds",
            "2",
            "--sweep-interval-ms",
            "200",
            "--sweep-grace-seconds",
            "1",
        ],
    )
    .await;
    let mut receiver = Receiver::start(Answer::Slow(Duration::from_millis(20))).await;
    burst(&app, &owner.token, &receiver.url).await;
    let mut seen = HashSet::new();
    let before = receiver
        .collect(&mut seen, 300, Duration::from_secs(60))
        .await;

    // FLUSHALL would wipe every other test's queue on this shared Redis;
    // deleting every key of this deployment's queue is the same for it.
    let client = redis::Client::open(redis.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let pattern = format!("{}*", junction::jobs::queue_name(&prefix));
    let keys = matching_keys(&mut conn, &pattern, |_| true).await;
    assert!(!keys.is_empty(), "the queue lives under {pattern}");
    let _: () = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .unwrap();

    let requests = before
        + receiver
            .collect(&mut seen, DELIVERIES, Duration::from_secs(120))
            .await;
    assert_eq!(seen.len(), DELIVERIES);
    eprintln!("{requests} requests for {DELIVERIES} deliveries");
}

#[tokio::test]
async fn a_stopped_worker_finishes_its_attempts_in_flight() {
    let Some(services) =
        services::postgres_and_redis("a_stopped_worker_finishes_its_attempts_in_flight").await
    else {
        return;
    };
    let redis = services.1.clone();
    let prefix = unique_redis_prefix();
    let (app, owner) = spawn_with_prefix(&services, &prefix, NO_WORKERS).await;
    let mut receiver = Receiver::start(Answer::Slow(Duration::from_millis(1500))).await;
    let mut worker = start_worker(&app, &redis, &prefix);
    app.ok(
        Some(&owner.token),
        "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }",
        json!({ "i": { "name": "slow", "url": receiver.url, "events": ["PROJECT_CREATED"] } }),
    )
    .await;
    app.ok(
        Some(&owner.token),
        "mutation { createProject(input: {name: \"p\"}) { id } }",
        json!({}),
    )
    .await;
    receiver.next(Duration::from_secs(30)).await;

    // SIGTERM while the receiver is still answering.
    let status = Command::new("kill")
        .args(["-TERM", &worker.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = tokio::task::spawn_blocking(move || worker.wait().unwrap())
        .await
        .unwrap();
    assert!(exited.success(), "the worker exits cleanly: {exited:?}");
    assert_eq!(
        app.count_where("deliveries", "status = 'SUCCEEDED'").await,
        1,
        "the attempt in flight finished and was recorded before exit"
    );
}

/// A TCP proxy to Redis that can hold back what its clients send, as a
/// Redis stalled by a snapshot's fork or a slow disk looks to them. Only
/// the connections of the server under test go through it.
struct StallingProxy {
    url: String,
    stalled: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl StallingProxy {
    async fn start(redis: &str) -> Self {
        use std::sync::{Arc, atomic::AtomicBool, atomic::Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let target = reqwest::Url::parse(redis).expect("TEST_REDIS_URL is a URL");
        let upstream = format!(
            "{}:{}",
            target.host_str().unwrap_or("127.0.0.1"),
            target.port().unwrap_or(6379)
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let stalled = Arc::new(AtomicBool::new(false));
        let held = stalled.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (mut from_client, mut to_client) = client.into_split();
                let (mut from_server, mut to_server) = server.into_split();
                let held = held.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n @ 1..) = from_client.read(&mut buf).await {
                        while held.load(Ordering::SeqCst) {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        if to_server.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                });
            }
        });
        Self { url, stalled }
    }

    fn stall(&self, on: bool) {
        self.stalled.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_redis_stalled_for_a_second_delays_a_delivery_but_loses_nothing() {
    let Some(services) = services::postgres_and_redis(
        "a_redis_stalled_for_a_second_delays_a_delivery_but_loses_nothing",
    )
    .await
    else {
        return;
    };
    let redis = services.1.clone();
    let proxy = StallingProxy::start(&redis).await;
    let (app, owner) = spawn_with_prefix(
        &services,
        &unique_redis_prefix(),
        &["--allow-private-targets", "--redis-url", &proxy.url],
    )
    .await;
    let mut receiver = Receiver::start(Answer::Status(200, None)).await;
    app.ok(
        Some(&owner.token),
        "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }",
        json!({ "i": { "name": "stalled", "url": receiver.url, "events": ["PROJECT_CREATED"] } }),
    )
    .await;

    // Longer than redis-rs' own 500 ms limit (which this test fails with,
    // `--redis-timeout-ms 500`): the queue push, the event's publication
    // and the workers' fetch all wait through it.
    proxy.stall(true);
    let unstall = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        proxy.stall(false);
        proxy
    });
    let project = app.create_project(&owner, "made while Redis stalls").await;
    // Queued at once, not left to the sweeper (a lost push waits out its
    // 30 s grace).
    let delivery = receiver.next(Duration::from_secs(10)).await;
    assert_eq!(delivery.json()["event"], "PROJECT_CREATED");
    assert_eq!(delivery.json()["currentValue"]["id"], project.as_str());
    let _proxy = unstall.await.unwrap();
}

/// SIGTERM closes open subscriptions with 1001 (going away) at once, so
/// their clients can reconnect elsewhere, and `junction serve` exits
/// without waiting out its 30 s shutdown timeout on them.
#[tokio::test]
async fn sigterm_closes_subscriptions_and_the_server_exits_promptly() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    use crate::ws::{close_code, connect_to};

    let (app, server) = serve_process(&[]).await;
    let token = &app.register("term").await.token;
    let port = app.port;

    let mut socket = connect_to(port, "graphql-transport-ws").await;
    for message in [
        json!({ "type": "connection_init", "payload": { "token": token } }),
        json!({ "type": "subscribe", "id": "1", "payload": { "query": "subscription { events { type } }" } }),
    ] {
        socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }
    // The acknowledgement (after the server's first ping, perhaps): the
    // socket is initialised and subscribed.
    let ack = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => return text.to_string(),
                Some(Ok(_)) => continue,
                other => panic!("the socket ended before its acknowledgement: {other:?}"),
            }
        }
    })
    .await
    .expect("acknowledged");
    assert!(ack.contains("connection_ack"), "{ack}");

    let closed = close_code(&mut socket, Duration::from_secs(10));
    let ((), code) = tokio::join!(terminate(server, Duration::from_secs(10)), closed);
    assert_eq!(code, 1001);
}

/// SIGTERM lets `junction serve`'s in-process workers finish and record the
/// attempts they have in flight. The server's database connections, first
/// opened for requests on actix-web's worker threads, must outlive those
/// threads' runtimes, which stop first: on PostgreSQL they did not, and
/// every outcome in flight failed to record (sent, yet left pending, so
/// sent again later).
#[tokio::test]
async fn sigterm_lets_in_process_workers_record_their_attempts_in_flight() {
    // Few connections, so that the requests open them all.
    let (app, server) =
        serve_process(&["--allow-private-targets", "--database-max-connections", "4"]).await;
    let owner = app.register("owner").await;
    let mut receiver = Receiver::start(Answer::Slow(Duration::from_millis(1500))).await;
    app.ok(
        Some(&owner.token),
        "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }",
        json!({ "i": { "name": "slow", "url": receiver.url, "events": ["PROJECT_CREATED"] } }),
    )
    .await;
    let creating = (0..8).map(|n| {
        app.ok(
            Some(&owner.token),
            "mutation($n: String!) { createProject(input: {name: $n}) { id } }",
            json!({ "n": format!("project {n}") }),
        )
    });
    futures_util::future::join_all(creating).await;
    receiver.next(Duration::from_secs(30)).await;

    // SIGTERM while the receiver is still answering.
    terminate(server, Duration::from_secs(20)).await;
    let sent = 1 + receiver.drain(Duration::from_millis(100)).await.len();
    assert_eq!(
        app.count_where("deliveries", "status = 'SUCCEEDED'").await,
        sent as i64,
        "every attempt in flight finished and was recorded before exit"
    );
    assert_eq!(app.count_rows("delivery_attempts").await, sent as i64);
}
