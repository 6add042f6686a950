//! Credentials a URL carries never reach the log, not even in the lines a
//! server error writes: an inbound webhook's token (`/webhooks/<token>`)
//! and an integration point's `?token=`.

use std::process::{Command, Stdio};

use crate::{
    helpers::*,
    processes::{KillOnDrop, answering},
};

const SECRET: &str = "a-session-key-of-at-least-32-characters";

#[tokio::test]
async fn a_server_error_logs_no_token_from_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(&dir).await;
    let log = dir.path().join("server.log");
    let port = free_port();
    let server = Command::new(env!("CARGO_BIN_EXE_junction"))
        .arg("serve")
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(["--database-url", &database_url, "--jwt-secret", SECRET])
        .args(secret_key_for(&database_url, &[]))
        .env("RUST_LOG", "info")
        .env_remove("REDIS_URL")
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::from(
            std::fs::File::create(dir.path().join("err.log")).unwrap(),
        ))
        .spawn()
        .unwrap();
    let _server = KillOnDrop(Some(server));
    let app = TestApp::at(
        port,
        database_url,
        SECRET.to_owned(),
        tempfile::tempdir().unwrap(),
    );
    answering(&app).await;
    // Lookups that cannot run: both routes answer 500 and log why.
    app.execute_sql("ALTER TABLE integrations RENAME TO integrations_gone")
        .await;
    app.execute_sql("ALTER TABLE integration_points RENAME TO integration_points_gone")
        .await;
    let (inbound_token, point_token) = ("inb0undTOKENabc123", "p0intTOKENxyz789");
    let inbound = app
        .client
        .post(format!("{}/webhooks/{inbound_token}", app.address))
        .json(&serde_json::json!({ "text": "hi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(inbound.status(), 500);
    let point = app
        .client
        .post(format!(
            "{}/rest/v1/service/integration_points/{}/hook?token={point_token}",
            app.address,
            uuid::Uuid::now_v7()
        ))
        .json(&serde_json::json!({ "text": "hi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(point.status(), 500);

    let logged = [log, dir.path().join("err.log")]
        .iter()
        .map(|file| std::fs::read_to_string(file).unwrap())
        .collect::<String>();
    assert!(
        logged.contains("/webhooks/***") && logged.contains("token=***"),
        "the requests are logged, masked:\n{logged}"
    );
    for token in [inbound_token, point_token] {
        assert!(!logged.contains(token), "{token} is in the log:\n{logged}");
    }
}
