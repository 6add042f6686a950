//! Password hashing with argon2id (the crate's default parameters, OWASP's
//! recommended minimum).

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

use std::sync::LazyLock;

use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

pub const MIN_LENGTH: usize = 8;

/// How many hashes run at once: one per core. Each argon2id run holds
/// 19 MiB for tens of milliseconds, and logins with a wrong password cost
/// the same as right ones: unbounded, they ran one per blocking thread
/// (up to 512 at once), and 300 concurrent logins took the server from
/// about 30 to 724 MiB. The cores do no more at once anyway; the rest wait
/// their turn holding no more than their request.
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, |cores| cores.get()))
});

/// Runs CPU-bound hashing on the blocking pool, so it never stalls the
/// async workers, once a core is free for it.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    let _turn = HASHING
        .acquire()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(e.into()))
}

pub async fn hash(password: String) -> AppResult<String> {
    hashing(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing password: {e}")))
    })
    .await?
}

pub async fn verify(password: String, phc: String) -> AppResult<bool> {
    hashing(move || {
        let parsed = PasswordHash::new(&phc)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("stored hash unreadable: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}

/// Checks the rules a new password must meet.
pub fn validate(password: &str) -> AppResult<()> {
    if password.chars().count() < MIN_LENGTH {
        return Err(AppError::validation(format!(
            "password must be at least {MIN_LENGTH} characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ_per_salt() {
        let a = hash("correct horse".into()).await.unwrap();
        let b = hash("correct horse".into()).await.unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), a.clone()).await.unwrap());
        assert!(!verify("wrong horse".into(), a).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_there_are_cores() {
        use std::sync::{
            Arc,
            atomic::{AtomicUsize, Ordering},
        };
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                tokio::spawn(hashing(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let cores = std::thread::available_parallelism().map_or(2, |cores| cores.get());
        assert!(most.load(Ordering::SeqCst) <= cores);
        assert!(most.load(Ordering::SeqCst) >= 1);
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(validate("short").is_err());
        assert!(validate("long enough").is_ok());
    }
}
