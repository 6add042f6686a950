//! `junction serve` and `junction worker` run as processes of their own,
//! as a deployment runs them: signals reach them alone, and a test can
//! kill one.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::helpers::{TestApp, free_port, fresh_database, secret_key_for};

/// `junction serve` on a fresh database, with `flags`; killed when dropped
/// unless taken out of its guard. The [`TestApp`] reaches it.
pub async fn serve_process(flags: &[&str]) -> (TestApp, KillOnDrop) {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(&dir).await;
    let secret = format!("test-secret-{}", uuid::Uuid::now_v7());
    serve_process_on(database_url, secret, dir, flags).await
}

/// `junction serve` on an existing database (a SQLite file in `dir`).
pub async fn serve_process_on(
    database_url: String,
    secret: String,
    dir: tempfile::TempDir,
    flags: &[&str],
) -> (TestApp, KillOnDrop) {
    let port = free_port();
    serve_process_at(port, database_url, secret, dir, flags).await
}

/// `junction serve` on `port` (to start one again where clients know it).
pub async fn serve_process_at(
    port: u16,
    database_url: String,
    secret: String,
    dir: tempfile::TempDir,
    flags: &[&str],
) -> (TestApp, KillOnDrop) {
    let server = Command::new(env!("CARGO_BIN_EXE_junction"))
        .arg("serve")
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(["--database-url", &database_url, "--jwt-secret", &secret])
        .args(secret_key_for(&database_url, flags))
        .args(flags)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server starts");
    let server = KillOnDrop(Some(server));
    let app = TestApp::at(port, database_url, secret, dir);
    answering(&app).await;
    (app, server)
}

/// Waits (up to 30 s) until the server `app` reaches answers.
pub async fn answering(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .is_err()
    {
        assert!(tokio::time::Instant::now() < deadline, "the server answers");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `junction worker` on `app`'s database and the queue under `prefix`.
pub fn worker_process(app: &TestApp, redis: &str, prefix: &str, flags: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_junction"))
        .arg("worker")
        .args(["--database-url", &app.database_url])
        .args(secret_key_for(&app.database_url, flags))
        .args(["--redis-url", redis, "--redis-prefix", prefix])
        .args(["--allow-private-targets", "--delivery-timeout-seconds", "2"])
        .args(flags)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the worker starts")
}

/// Sends SIGTERM and waits for a clean exit within `within`.
pub async fn terminate(mut server: KillOnDrop, within: Duration) {
    let status = Command::new("kill")
        .args(["-TERM", &server.0.as_ref().unwrap().id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = tokio::time::timeout(
        within,
        tokio::task::spawn_blocking(move || server.0.take().unwrap().wait().unwrap()),
    )
    .await
    .unwrap_or_else(|_| panic!("the server exits within {within:?} of SIGTERM"))
    .unwrap();
    assert!(exited.success(), "the server exits cleanly: {exited:?}");
}

/// A child process killed when dropped, unless taken out first.
pub struct KillOnDrop(pub Option<Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
