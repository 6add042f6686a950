//! Password guessing, bounded. Each secret checked against a guess (an
//! account's password at `login`, a quick call's at `joinQuickCall`) gets
//! `LOGIN_MAX_FAILURES` tries per window of `LOGIN_LOCKOUT_SECONDS`,
//! counted from the first; past them every try is refused with 429
//! `TOO_MANY_REQUESTS` until the window ends, the right password too
//! (else the lock would tell a guesser when they hit it). A success clears
//! the count.
//!
//! Tries are counted before the password is checked, in one atomic step,
//! so a burst of concurrent guesses cannot all slip in before the first
//! failure is written. With Redis the counts are shared by every process of
//! a deployment; without, each process keeps its own. Unknown accounts are
//! counted like known ones, so the answers do not tell which exist.
//!
//! Should Redis fail, tries pass uncounted: logging in must not depend on
//! more than the database does.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};

use crate::{
    config::Settings,
    error::{AppError, AppResult},
};

/// Most subjects one process tracks without Redis; about 100 bytes each.
/// Past it, once expired windows are dropped, new subjects go uncounted
/// until some expire.
const MEMORY_CAPACITY: usize = 100_000;

/// What a guess is against: its key names the kind and a digest of the
/// identifier, so no e-mail address is written to Redis.
pub struct Subject(String);

impl Subject {
    /// An account's password, by its (normalized) e-mail address.
    pub fn login(email: &str) -> Self {
        Self::of("login", email)
    }

    /// A quick call's password, by the call's id.
    pub fn quick_call(call_id: &str) -> Self {
        Self::of("call", call_id)
    }

    fn of(kind: &str, id: &str) -> Self {
        let digest = Sha256::digest(id.as_bytes());
        Self(format!("{kind}:{}", hex::encode(&digest[..16])))
    }
}

pub struct Throttle {
    /// 0: no limit.
    max_tries: u32,
    window: Duration,
    /// This process's counts: the only ones without Redis, and with it
    /// the ones tries are counted in while Redis does not answer (a limit
    /// per process then, rather than none).
    memory: Mutex<HashMap<String, Window>>,
    /// The counts every process shares.
    redis: Option<SharedCounts>,
}

struct SharedCounts {
    conn: redis::aio::ConnectionManager,
    prefix: String,
}

/// How long a login waits for Redis' count before counting in memory.
const REDIS_DEADLINE: Duration = Duration::from_millis(500);

struct Window {
    tries: u32,
    ends: Instant,
}

impl Throttle {
    pub fn new(settings: &Settings, redis: Option<redis::aio::ConnectionManager>) -> Self {
        Self {
            max_tries: settings.login_max_failures,
            window: Duration::from_secs(settings.login_lockout_seconds),
            memory: Mutex::default(),
            redis: redis.map(|conn| SharedCounts {
                conn,
                prefix: format!("{}throttle:", settings.redis_prefix),
            }),
        }
    }

    /// Counts a try against `subject`, to be made only if this returns
    /// `Ok`; refused with [`AppError::TooManyAttempts`] once the window's
    /// tries are used up.
    pub async fn try_once(&self, subject: &Subject) -> AppResult<()> {
        if self.max_tries == 0 {
            return Ok(());
        }
        let counted = match &self.redis {
            None => None,
            Some(shared) => {
                let count = self.count_in_redis(shared.conn.clone(), &shared.prefix, &subject.0);
                match tokio::time::timeout(REDIS_DEADLINE, count).await {
                    Ok(Ok(counted)) => Some(counted),
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "counting a password try in Redis failed; counting it in this process");
                        None
                    }
                    Err(_) => {
                        tracing::warn!(
                            "Redis did not count a password try in time; counting it in this process"
                        );
                        None
                    }
                }
            }
        };
        let (tries, left) = counted.unwrap_or_else(|| self.count_in_memory(&subject.0));
        if tries > self.max_tries {
            // Whole seconds, rounded up: a client that waits that long is
            // let through.
            let seconds = left.as_millis().div_ceil(1000).max(1) as u64;
            return Err(AppError::TooManyAttempts(seconds));
        }
        Ok(())
    }

    /// Clears `subject`'s count after the right password.
    pub async fn succeeded(&self, subject: &Subject) {
        if self.max_tries == 0 {
            return;
        }
        lock(&self.memory).remove(&subject.0);
        if let Some(SharedCounts { conn, prefix }) = &self.redis {
            let (mut conn, mut del) = (conn.clone(), redis::cmd("DEL"));
            let deleted = del
                .arg(format!("{prefix}{}", subject.0))
                .query_async::<i64>(&mut conn);
            match tokio::time::timeout(REDIS_DEADLINE, deleted).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "clearing a password try count in Redis failed")
                }
                Err(_) => tracing::warn!("Redis did not clear a password try count in time"),
            }
        }
    }

    /// The subject's tries in its window, this one included, and the time
    /// left in the window.
    fn count_in_memory(&self, key: &str) -> (u32, Duration) {
        let now = Instant::now();
        let mut windows = lock(&self.memory);
        if windows.len() >= MEMORY_CAPACITY && !windows.contains_key(key) {
            windows.retain(|_, w| w.ends > now);
            if windows.len() >= MEMORY_CAPACITY {
                return (1, self.window);
            }
        }
        let window = windows.entry(key.to_owned()).or_insert(Window {
            tries: 0,
            ends: now + self.window,
        });
        if window.ends <= now {
            *window = Window {
                tries: 0,
                ends: now + self.window,
            };
        }
        window.tries = window.tries.saturating_add(1);
        (window.tries, window.ends - now)
    }

    /// The same in Redis, in one atomic round trip: the window's key is
    /// made with its expiry by the first try and counted up by each.
    async fn count_in_redis(
        &self,
        mut conn: redis::aio::ConnectionManager,
        prefix: &str,
        key: &str,
    ) -> redis::RedisResult<(u32, Duration)> {
        let key = format!("{prefix}{key}");
        let (tries, left_ms): (u32, i64) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&key)
            .arg(0)
            .arg("NX")
            .arg("PX")
            .arg(self.window.as_millis() as u64)
            .ignore()
            .cmd("INCR")
            .arg(&key)
            .cmd("PTTL")
            .arg(&key)
            .query_async(&mut conn)
            .await?;
        Ok((tries, Duration::from_millis(left_ms.max(0) as u64)))
    }
}

fn lock(
    windows: &Mutex<HashMap<String, Window>>,
) -> std::sync::MutexGuard<'_, HashMap<String, Window>> {
    // A panic while holding it leaves counts, not broken invariants.
    windows
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn throttle(max: u32, window_secs: u64) -> Throttle {
        let cli = crate::cli::Cli::try_parse_from([
            "junction",
            "--login-max-failures",
            &max.to_string(),
            "--login-lockout-seconds",
            &window_secs.to_string(),
        ])
        .unwrap();
        Throttle::new(&cli.settings, None)
    }

    #[tokio::test]
    async fn tries_past_the_limit_are_refused_until_a_success_clears_them() {
        let throttle = throttle(3, 60);
        let ann = Subject::login("ann@example.com");
        for _ in 0..3 {
            throttle.try_once(&ann).await.unwrap();
        }
        let refused = throttle.try_once(&ann).await.unwrap_err();
        assert!(
            matches!(refused, AppError::TooManyAttempts(s) if (59..=60).contains(&s)),
            "{refused:?}"
        );
        // Another subject is not affected.
        throttle
            .try_once(&Subject::login("bob@example.com"))
            .await
            .unwrap();
        throttle.succeeded(&ann).await;
        throttle.try_once(&ann).await.unwrap();
    }

    #[tokio::test]
    async fn zero_turns_the_limit_off() {
        let throttle = throttle(0, 60);
        let ann = Subject::quick_call("token");
        for _ in 0..100 {
            throttle.try_once(&ann).await.unwrap();
        }
    }

    #[test]
    fn keys_do_not_hold_the_address() {
        let Subject(key) = Subject::login("ann@example.com");
        assert!(key.starts_with("login:"), "{key}");
        assert!(!key.contains("ann"), "{key}");
        assert_ne!(key, Subject::quick_call("ann@example.com").0);
    }
}
