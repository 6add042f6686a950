//! The Redis queue with more work at once than one Redis script may move
//! (Lua unpacks at most about 8,000 values), on PostgreSQL + Redis whatever
//! backends the rest of the suite runs on: a backlog that comes due while
//! no worker runs, retries that all come due together, and the finished
//! jobs of a large fan-out. Every delivery must arrive; a repeat only with
//! the same `webhook-id`.
//!
//! Each test prints what it measured: deliveries due, how long they took
//! to arrive, and the queue's size in Redis.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use chrono::SubsecRound;

use crate::{
    helpers::*,
    processes::{KillOnDrop, serve_process_on, terminate, worker_process},
    receiver::{Answer, Receiver},
    services,
};

const WEBHOOKS: usize = 100;

/// A deployment on fresh PostgreSQL and Redis state whose API server (in
/// this process) runs no workers, with an owner and a receiver behind
/// `WEBHOOKS` webhooks.
struct Deployment {
    app: TestApp,
    owner: Session,
    receiver: Receiver,
    redis: String,
    prefix: String,
}

/// These tests load the machine for a minute or more each, and two at once
/// would slow each other past their bounds: they run one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Deployment {
    async fn start(
        test: &str,
        answer: Answer,
    ) -> Option<(Self, tokio::sync::MutexGuard<'static, ()>)> {
        let (postgres, redis) = services::postgres_and_redis(test).await?;
        let turn = ONE_AT_A_TIME.lock().await;
        let prefix = unique_redis_prefix();
        let database_url = fresh_postgres_database(&postgres).await;
        let secret = format!("test-secret-{}", uuid::Uuid::now_v7());
        let flags = [
            "--redis-url",
            &redis,
            "--redis-prefix",
            &prefix,
            "--allow-private-targets",
            "--in-process-workers",
            "false",
        ];
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_on(database_url, Some(secret), dir, &prefix, &flags).await;
        let owner = app.register("owner").await;
        let receiver = Receiver::start(answer).await;
        create_webhooks(&app, &owner.token, &receiver.url, WEBHOOKS).await;
        let deployment = Self {
            app,
            owner,
            receiver,
            redis,
            prefix,
        };
        Some((deployment, turn))
    }

    /// `events` events, each owed to every webhook, committed and queued.
    async fn owe(&self, events: usize) -> usize {
        create_projects(&self.app, &self.owner.token, events, 8).await;
        let owed = events * WEBHOOKS;
        assert_eq!(self.app.count_rows("deliveries").await, owed as i64);
        owed
    }

    /// `junction serve` with its in-process workers on this deployment's
    /// database and queue, with `flags`.
    async fn serve(&self, flags: &[&str]) -> KillOnDrop {
        let mut all = vec![
            "--redis-url",
            &self.redis,
            "--redis-prefix",
            &self.prefix,
            "--allow-private-targets",
            "--delivery-timeout-seconds",
            "5",
        ];
        all.extend(flags);
        let dir = tempfile::tempdir().unwrap();
        let (_, server) = serve_process_on(
            self.app.database_url.clone(),
            self.app.jwt_secret.clone(),
            dir,
            &all,
        )
        .await;
        server
    }

    /// Waits until every delivery of `owed` has arrived and is recorded
    /// `SUCCEEDED`; returns the requests that took.
    async fn all_arrive(&mut self, owed: usize, within: Duration) -> usize {
        let mut seen = HashSet::new();
        let requests = self.receiver.collect(&mut seen, owed, within).await;
        self.settled(owed, Duration::from_secs(60)).await;
        requests
    }

    async fn settled(&self, owed: usize, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while self
            .app
            .count_where("deliveries", "status = 'SUCCEEDED'")
            .await
            < owed as i64
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "every delivery is recorded as succeeded"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.redis.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// The queue's name in Redis' keys.
    fn queue(&self) -> String {
        junction::jobs::queue_name(&self.prefix)
    }

    /// The queue's keys in Redis and the memory they take, in bytes.
    async fn footprint(&self) -> (usize, u64) {
        let mut conn = self.redis().await;
        let keys = matching_keys(&mut conn, &format!("{}:*", self.queue()), |_| true).await;
        let mut bytes = 0;
        for chunk in keys.chunks(1000) {
            let mut pipe = redis::pipe();
            for key in chunk {
                pipe.cmd("MEMORY").arg("USAGE").arg(key);
            }
            let sizes: Vec<Option<u64>> = pipe.query_async(&mut conn).await.unwrap();
            bytes += sizes.into_iter().flatten().sum::<u64>();
        }
        (keys.len(), bytes)
    }

    /// Waits until the queue holds no job at all, finished or not.
    async fn cleared(&self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let mut conn = self.redis().await;
            let jobs: u64 = redis::cmd("HLEN")
                .arg(format!("{}:data", self.queue()))
                .query_async(&mut conn)
                .await
                .unwrap();
            if jobs == 0 && self.finished_jobs().await == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{jobs} jobs still in the queue"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Jobs queued or taken by a worker and not finished: the active list,
    /// the scheduled set, and every worker's in-flight set.
    async fn unfinished_jobs(&self) -> i64 {
        let mut conn = self.redis().await;
        let queue = self.queue();
        let mut count: i64 = redis::cmd("LLEN")
            .arg(format!("{queue}:active"))
            .query_async(&mut conn)
            .await
            .unwrap();
        count += redis::cmd("ZCARD")
            .arg(format!("{queue}:scheduled"))
            .query_async::<i64>(&mut conn)
            .await
            .unwrap();
        for set in matching_keys(&mut conn, &format!("{queue}:inflight:*"), |_| true).await {
            count += redis::cmd("SCARD")
                .arg(set)
                .query_async::<i64>(&mut conn)
                .await
                .unwrap();
        }
        count
    }

    /// Finished jobs still held in the queue.
    async fn finished_jobs(&self) -> u64 {
        let mut conn = self.redis().await;
        redis::cmd("SCARD")
            .arg(format!("{}:done", self.queue()))
            .query_async(&mut conn)
            .await
            .unwrap()
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The first wedge: a worker stopped while 30,000 deliveries were
/// made. Through the scheduled set, the worker's first fetch tried to move
/// them all at once, failed, and failed again at every restart.
#[tokio::test]
async fn thirty_thousand_deliveries_made_while_the_worker_was_stopped_all_arrive() {
    let test = "thirty_thousand_deliveries_made_while_the_worker_was_stopped_all_arrive";
    let Some((mut deployment, _turn)) = Deployment::start(test, Answer::Ok).await else {
        return;
    };
    let owed = deployment.owe(300).await;
    let (keys, before) = deployment.footprint().await;

    let started = Instant::now();
    let _worker = KillOnDrop(Some(worker_process(
        &deployment.app,
        &deployment.redis,
        &deployment.prefix,
        &["--sweep-interval-ms", "500", "--worker-concurrency", "32"],
    )));
    let requests = deployment.all_arrive(owed, Duration::from_secs(240)).await;
    let took = started.elapsed();
    // The worker's sweeps clear the finished jobs: their data, metadata
    // and ids.
    deployment.cleared(Duration::from_secs(30)).await;
    let (keys_after, after) = deployment.footprint().await;
    eprintln!(
        "{owed} deliveries due at a worker's start arrived in {took:.1?} ({requests} requests); \
         queue in Redis: {keys} keys, {:.1} MiB before; {keys_after} keys, {:.2} MiB after",
        mib(before),
        mib(after)
    );
    assert!(
        keys_after < 10,
        "what is left of the queue: {keys_after} keys"
    );
}

/// The same with `junction serve` alone: its in-process workers find the
/// 30,000 deliveries due when it starts.
#[tokio::test]
async fn thirty_thousand_deliveries_made_while_serve_was_stopped_all_arrive() {
    let test = "thirty_thousand_deliveries_made_while_serve_was_stopped_all_arrive";
    let Some((mut deployment, _turn)) = Deployment::start(test, Answer::Ok).await else {
        return;
    };
    let owed = deployment.owe(300).await;
    let started = Instant::now();
    let _server = deployment.serve(&[]).await;
    let requests = deployment.all_arrive(owed, Duration::from_secs(240)).await;
    eprintln!(
        "{owed} deliveries due at serve's start arrived in {:.1?} ({requests} requests)",
        started.elapsed()
    );
}

/// The wedge in the scheduled set itself: a receiver in maintenance asks
/// every delivery to come back at the same second (`Retry-After` as a
/// date), so 12,000 retries come due at once, and the first fetch after
/// that second finds them all.
#[tokio::test]
async fn twelve_thousand_retries_due_at_the_same_second_all_arrive() {
    let test = "twelve_thousand_retries_due_at_the_same_second_all_arrive";
    let Some((mut deployment, _turn)) = Deployment::start(test, Answer::Ok).await else {
        return;
    };
    let owed = deployment.owe(120).await;
    let back_at = chrono::Utc::now().trunc_subsecs(0) + chrono::Duration::seconds(90);
    let retry_after = back_at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    (deployment.receiver).answer(Answer::FirstTryUnavailable(retry_after));
    // Failing webhooks would also owe each other health events.
    let _server = deployment
        .serve(&["--unhealthy-after-failures", "1000000"])
        .await;
    let mut first_tries = HashSet::new();
    (deployment.receiver)
        .collect(&mut first_tries, owed, Duration::from_secs(80))
        .await;
    let at_once = format!(
        "status = 'PENDING' AND next_attempt_at >= '{}' AND next_attempt_at < '{}'",
        back_at.to_rfc3339(),
        (back_at + chrono::Duration::seconds(1)).to_rfc3339()
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut due = 0;
    while chrono::Utc::now() < back_at && due <= 8_000 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the retries are recorded"
        );
        due = deployment.app.count_where("deliveries", &at_once).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        due > 8_000 && chrono::Utc::now() < back_at,
        "more retries due in one second than one Redis script could move: {due}"
    );

    let requests = deployment.all_arrive(owed, Duration::from_secs(240)).await;
    eprintln!(
        "{due} retries due in the same second arrived within {:.1} s of it ({requests} requests)",
        (chrono::Utc::now() - back_at).num_milliseconds() as f64 / 1000.0
    );
}

/// A backlog older than the sweeper's grace still has its jobs: the
/// sweeper, which takes every overdue delivery for one that lost its job,
/// queues nothing twice. Before, each pass queued the backlog again, and
/// 10,000 queued deliveries grew to 21,000 jobs within a minute.
#[tokio::test]
async fn the_sweeper_never_queues_a_waiting_delivery_twice() {
    let test = "the_sweeper_never_queues_a_waiting_delivery_twice";
    let slow = Answer::Slow(Duration::from_millis(100));
    let Some((deployment, _turn)) = Deployment::start(test, slow).await else {
        return;
    };
    let owed = deployment.owe(20).await;
    // One attempt at a time, a tenth of a second each: the backlog stays
    // overdue for the whole test, and the sweeper passes 25 times.
    let _worker = KillOnDrop(Some(worker_process(
        &deployment.app,
        &deployment.redis,
        &deployment.prefix,
        &[
            "--worker-concurrency",
            "1",
            "--sweep-interval-ms",
            "200",
            "--sweep-grace-seconds",
            "0",
        ],
    )));
    // The worker has started, attempts and sweeps: then five more seconds,
    // twenty-five sweeps more.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let sent = "status = 'SUCCEEDED'";
    while deployment.app.count_where("deliveries", sent).await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the worker sends");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let queued = deployment.unfinished_jobs().await;
    let pending = deployment
        .app
        .count_where("deliveries", "status = 'PENDING'")
        .await;
    eprintln!("{owed} deliveries owed: {pending} pending, {queued} jobs not finished");
    assert!(pending > 0, "the backlog outlasts the test");
    // A worker acknowledges finished jobs in batches (of up to 64 here):
    // until then they are still in its in-flight set.
    assert!(
        queued <= pending + 64,
        "{queued} jobs for {pending} pending deliveries"
    );
}

/// A fan-out of 1,000 events to 100 webhooks through `junction serve`
/// alone: all 100,000 deliveries arrive. Its server never clears finished
/// jobs (no sweep within the test), so the queue then holds 100,000 of
/// them, as one did after an upgrade from a version that cleared them
/// once a minute in one script: the next server clears them, and no
/// Redis command waits more than 100 ms for it.
#[tokio::test]
async fn a_fan_out_of_100000_arrives_and_its_finished_jobs_clear_without_a_stall() {
    let test = "a_fan_out_of_100000_arrives_and_its_finished_jobs_clear_without_a_stall";
    let Some((mut deployment, _turn)) = Deployment::start(test, Answer::Ok).await else {
        return;
    };
    let server = deployment.serve(&["--sweep-interval-ms", "3600000"]).await;
    let started = Instant::now();
    create_projects(&deployment.app, &deployment.owner.token, 1000, 8).await;
    let owed = 1000 * WEBHOOKS;
    let requests = deployment.all_arrive(owed, Duration::from_secs(600)).await;
    eprintln!(
        "a fan-out of {owed} deliveries through serve alone arrived in {:.1?} ({requests} requests)",
        started.elapsed()
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while deployment.finished_jobs().await < owed as u64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "every job is recorded finished"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    terminate(server, Duration::from_secs(30)).await;
    let finished = deployment.finished_jobs().await;
    let (keys, before) = deployment.footprint().await;
    let mut conn = deployment.redis().await;
    let slow_before = slow_commands(&mut conn, &deployment.queue()).await;

    // Writes while the jobs are cleared: each publishes its event through
    // Redis, and owes no delivery (the webhooks want projects only).
    let project = deployment.app.create_project(&deployment.owner, "p").await;
    let started = Instant::now();
    let _next = deployment.serve(&["--sweep-interval-ms", "200"]).await;
    let (mut slowest, mut answered) = (Duration::ZERO, 0);
    while deployment.finished_jobs().await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the finished jobs are cleared"
        );
        let asked = Instant::now();
        deployment
            .app
            .create_todo_list(&deployment.owner, &project)
            .await;
        slowest = slowest.max(asked.elapsed());
        answered += 1;
    }
    let cleared = started.elapsed();
    deployment.cleared(Duration::from_secs(30)).await;
    let (keys_after, after) = deployment.footprint().await;
    let slow: Vec<_> = slow_commands(&mut conn, &deployment.queue())
        .await
        .into_iter()
        .filter(|entry| !slow_before.contains(entry))
        .collect();
    let longest = slow.iter().map(|(_, micros)| *micros).max().unwrap_or(0);
    eprintln!(
        "{finished} finished jobs ({keys} keys, {:.1} MiB) cleared within {cleared:.1?} of a \
         server's start, to {keys_after} keys, {:.2} MiB; {answered} API writes meanwhile, the \
         slowest {slowest:.0?}; {} Redis commands on the queue ran over 10 ms, the longest \
         {longest} µs",
        mib(before),
        mib(after),
        slow.len()
    );
    // What a request waits for the clearing is at most the one Redis
    // command it queues behind: the slow log measures that exactly, where
    // a request's own time on a loaded machine measures much else.
    assert!(
        slow.iter().all(|(_, micros)| *micros < 100_000),
        "a Redis command on the queue held Redis for 100 ms or more: {slow:?}"
    );
    assert!(
        slowest < Duration::from_secs(1),
        "an API write took {slowest:?} while the queue was cleared"
    );
}

/// The entries of Redis' slow log (commands that ran over 10 ms) that
/// name `queue`, as (id, microseconds). Redis runs one command at a time,
/// so each is how long every other client waited behind it.
async fn slow_commands(
    conn: &mut redis::aio::MultiplexedConnection,
    queue: &str,
) -> Vec<(i64, i64)> {
    let threshold: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("slowlog-log-slower-than")
        .query_async(conn)
        .await
        .unwrap();
    if threshold.get(1).and_then(|t| t.parse::<i64>().ok()) != Some(10_000) {
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("slowlog-log-slower-than")
            .arg(10_000)
            .query_async(conn)
            .await
            .unwrap();
    }
    let entries: Vec<redis::Value> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(1000)
        .query_async(conn)
        .await
        .unwrap();
    entries
        .into_iter()
        .filter_map(|entry| {
            let redis::Value::Array(fields) = entry else {
                return None;
            };
            let id: i64 = redis::from_redis_value(fields.first()?.clone()).ok()?;
            let micros: i64 = redis::from_redis_value(fields.get(2)?.clone()).ok()?;
            let args: Vec<String> = redis::from_redis_value(fields.get(3)?.clone()).ok()?;
            args.iter()
                .any(|arg| arg.contains(queue))
                .then_some((id, micros))
        })
        .collect()
}
