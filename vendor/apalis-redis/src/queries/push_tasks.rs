use std::sync::LazyLock;

use redis::{Script, aio::ConnectionLike};
use ulid::Ulid;

use crate::{Config, RedisTask, error::Error, queries::current_timestamp};

static BATCH_PUSH_SCRIPT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../../lua/batch_push.lua")));

/// Tasks pushed per script call: a script blocks every other client of
/// Redis while it runs.
const PUSH_BATCH: usize = 1000;

/// Pushes tasks to Redis using a batch Lua script, [`PUSH_BATCH`] tasks per
/// call. A task due now (no run time, or one already past) goes straight
/// onto the active list; only a task due later waits in the scheduled set.
pub async fn push_tasks<Conn>(
    conn: &mut Conn,
    config: &Config,
    tasks: &[RedisTask],
) -> Result<(u32, u32), Error>
where
    Conn: ConnectionLike,
{
    let mut pushed = (0, 0);
    for chunk in tasks.chunks(PUSH_BATCH) {
        let (enqueued, scheduled) = push_batch(conn, config, chunk).await?;
        pushed.0 += enqueued;
        pushed.1 += scheduled;
    }
    Ok(pushed)
}

async fn push_batch<Conn>(
    conn: &mut Conn,
    config: &Config,
    tasks: &[RedisTask],
) -> Result<(u32, u32), Error>
where
    Conn: ConnectionLike,
{
    let mut batch = BATCH_PUSH_SCRIPT.key(config.job_data_hash());
    let mut script = batch
        .key(config.active_jobs_list())
        .key(config.signal_list())
        .key(config.job_meta_hash())
        .key(config.scheduled_jobs_set())
        .key(config.idempotency_key_set())
        .arg(
            config
                .idempotency_ttl
                .map(|a| a.as_secs())
                .unwrap_or_default(), // 0 is forever
        )
        .arg(config.emit_events);
    let current = current_timestamp();
    for request in tasks {
        let task_id = request
            .task_id()
            .map(|s| s.to_string())
            .unwrap_or(Ulid::generate().to_string());
        let attempts = request.attempt() as u32;
        let max_attempts = request.max_attempts().unwrap_or(25);
        let job = &request.args;
        let meta = serde_json::to_string(request.metadata()).map_err(Error::Json)?;
        // 0 (due now) puts the task on the active list: through the
        // scheduled set it would wait for a fetch to promote it.
        let run_at = request.run_at().filter(|at| *at > current).unwrap_or(0);

        let idempotency_key = request.idempotency_key().unwrap_or("");

        script = script
            .arg(task_id)
            .arg(job)
            .arg(attempts)
            .arg(max_attempts)
            .arg(meta)
            .arg(run_at)
            .arg(idempotency_key);
    }

    let res = script.invoke_async::<(u32, u32)>(conn).await?;
    Ok(res)
}
