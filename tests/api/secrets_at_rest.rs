//! Secrets and tokens at rest: none is readable in the database (its file
//! on SQLite, every row on PostgreSQL), a database from before sealing is
//! sealed in place, and a key rotation keeps every secret what it was.

use std::{process::Command, time::Duration};

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::json;

use crate::{
    deliveries::verifies_with,
    helpers::*,
    processes::serve_process_on,
    receiver::{Answer, Receiver},
};

const WAIT: Duration = Duration::from_secs(10);

/// What the database holds, as bytes: the SQLite file with its WAL, or on
/// PostgreSQL every row of every table as text.
async fn stored_bytes(app: &TestApp) -> Vec<u8> {
    if let Some(path) = app.database_url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap();
        return ["", "-wal", "-shm"]
            .iter()
            .filter_map(|suffix| std::fs::read(format!("{path}{suffix}")).ok())
            .flatten()
            .collect();
    }
    let db = Database::connect(&app.database_url).await.unwrap();
    let tables = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
        ))
        .await
        .unwrap();
    let mut bytes = Vec::new();
    for table in tables {
        let table: String = table.try_get_by_index(0).unwrap();
        let rows = db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT t::text FROM \"{table}\" t"),
            ))
            .await
            .unwrap();
        for row in rows {
            bytes.extend(row.try_get_by_index::<String>(0).unwrap().into_bytes());
        }
    }
    db.close().await.ok();
    bytes
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

/// Everything secret an owner can make, and what each is in clear.
struct Made {
    /// (what, plaintext)
    plain: Vec<(&'static str, String)>,
    webhook_id: String,
    secret: String,
    inbound_url: String,
    channel_id: String,
    token_local: String,
    call_token: String,
}

async fn make_everything(app: &TestApp, owner: &Session, receiver: &Receiver) -> Made {
    let token = Some(owner.token.as_str());
    let hook = app
        .ok(
            token,
            "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id secret } }",
            json!({ "i": { "name": "w", "url": receiver.url, "events": ["PROJECT_CREATED"] } }),
        )
        .await["createWebhook"]
        .clone();
    let first_secret = hook["secret"].as_str().unwrap().to_owned();
    let rotated = app
        .ok(
            token,
            "mutation($id: ID!) { rotateWebhookSecret(id: $id, graceSeconds: 3600) { secret } }",
            json!({ "id": hook["id"] }),
        )
        .await;
    let secret = rotated["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let project = app.create_project(owner, "secrets").await;
    let integration = |secret: Option<&str>| {
        app.ok(
            token,
            "mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) { webhookUrl secret } }",
            json!({ "i": { "projectId": project, "service": "incoming", "action": "CHAT", "secret": secret } }),
        )
    };
    let verified = integration(Some("integration-secret-7f3a9c")).await;
    let open = integration(None).await;
    let inbound_url = open["createIntegration"]["webhookUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let channel = app
        .ok(
            token,
            "mutation($i: IntegrationPointInput!) { createIntegrationPoint(input: $i) { id tokenLocal } }",
            json!({ "i": { "projectId": project, "recvSvcscriptcode": "ws_hook",
                "tokenRemote": "remote-token-one-5d1e", "tokenRemote2": "remote-token-two-8b2c" } }),
        )
        .await["createIntegrationPoint"]
        .clone();
    let expires = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let call = app
        .ok(
            token,
            "mutation($e: DateTime!) { createQuickCall(expiresAt: $e) { url } }",
            json!({ "e": expires }),
        )
        .await;
    let call_url = call["createQuickCall"]["url"].as_str().unwrap();
    let call_token = call_url.rsplit('/').next().unwrap().to_owned();
    let (api_token, _) = app.create_api_token(owner, "ci").await;
    let last = |url: &str| url.rsplit('/').next().unwrap().to_owned();
    let token_local = channel["tokenLocal"].as_str().unwrap().to_owned();
    let plain = vec![
        ("the webhook's first secret", first_secret),
        ("the webhook's secret", secret.clone()),
        (
            "an integration's secret",
            "integration-secret-7f3a9c".to_owned(),
        ),
        (
            "an integration's token",
            last(
                verified["createIntegration"]["webhookUrl"]
                    .as_str()
                    .unwrap(),
            ),
        ),
        ("an integration's token", last(&inbound_url)),
        ("a channel's token_local", token_local.clone()),
        (
            "a channel's token_remote",
            "remote-token-one-5d1e".to_owned(),
        ),
        (
            "a channel's token_remote2",
            "remote-token-two-8b2c".to_owned(),
        ),
        ("a quick call's token", call_token.clone()),
        ("an API token", api_token),
        ("a session token", owner.token.clone()),
    ];
    Made {
        plain,
        webhook_id: hook["id"].as_str().unwrap().to_owned(),
        secret,
        inbound_url,
        channel_id: channel["id"].as_str().unwrap().to_owned(),
        token_local,
        call_token,
    }
}

/// The generated session key, opened with the deployment's key.
async fn session_key(app: &TestApp, key_args: &[&str]) -> String {
    use clap::Parser;
    let named = secret_key_for(&app.database_url, key_args);
    let mut args = vec!["junction", "--database-url", &app.database_url];
    args.extend(key_args);
    args.extend(named.iter().map(String::as_str));
    let settings = junction::cli::Cli::try_parse_from(args).unwrap().settings;
    let secrets = junction::secrets::key::load(&settings).unwrap();
    let db = Database::connect(&app.database_url).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT value FROM instance_settings WHERE name = 'jwt_secret'",
        ))
        .await
        .unwrap()
        .expect("a generated session key");
    let sealed: String = row.try_get_by_index(0).unwrap();
    secrets
        .open(junction::secrets::purpose::SESSION_KEY, &sealed)
        .unwrap()
}

/// What was made still works: the webhook signs with its secret, the
/// inbound URL and the channel's token are accepted, the call admits.
async fn everything_works(app: &TestApp, owner: &Session, made: &Made, receiver: &mut Receiver) {
    app.create_project(owner, "after").await;
    let delivery = receiver.next(WAIT).await;
    assert!(
        verifies_with(&delivery, &made.secret),
        "signed with the same secret"
    );
    let shown = app
        .ok(
            Some(&owner.token),
            "query($id: ID!) { webhook(id: $id) { secret } }",
            json!({ "id": made.webhook_id }),
        )
        .await;
    assert_eq!(shown["webhook"]["secret"], made.secret.as_str());
    // The token, on this server (the URL names the server that made it).
    let token = made.inbound_url.rsplit('/').next().unwrap();
    let inbound = app
        .client
        .post(format!("{}/webhooks/{token}", app.address))
        .json(&json!({ "text": "still here" }))
        .send()
        .await
        .unwrap();
    assert!(inbound.status().is_success(), "{}", inbound.status());
    let hook = format!(
        "{}/rest/v1/service/integration_points/{}/hook",
        app.address, made.channel_id
    );
    let received = app
        .client
        .post(hook)
        .bearer_auth(&made.token_local)
        .json(&json!({ "text": "via the channel" }))
        .send()
        .await
        .unwrap();
    assert_eq!(received.status(), 201);
    app.ok(
        Some(&owner.token),
        "mutation($t: String!) { joinQuickCall(token: $t) { id } }",
        json!({ "t": made.call_token }),
    )
    .await;
}

#[tokio::test]
async fn no_secret_or_token_is_stored_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(&dir).await;
    // No JWT_SECRET: the session key is generated and stored.
    let app = spawn_on(
        database_url,
        None,
        dir,
        &unique_redis_prefix(),
        &["--allow-private-targets"],
    )
    .await;
    let owner = app.register("owner").await;
    let mut receiver = Receiver::start(Answer::Ok).await;
    let made = make_everything(&app, &owner, &receiver).await;
    let mut plain = made.plain.clone();
    plain.push(("the session key", session_key(&app, &[]).await));

    let stored = stored_bytes(&app).await;
    assert!(
        holds(&stored, &made.webhook_id),
        "the dump holds the rows, the webhook's among them ({} bytes)",
        stored.len()
    );
    for (what, text) in &plain {
        assert!(!holds(&stored, text), "{what} is stored in clear: {text}");
    }
    everything_works(&app, &owner, &made, &mut receiver).await;
}

/// Opens every sealed value of `app`'s database and writes it back in
/// clear, as a version before sealing left it, without the lookup values
/// and the key's id.
async fn unseal_as_an_older_version_stored_it(app: &TestApp, call_token: &str) {
    use clap::Parser;
    use junction::secrets::purpose;
    let named = secret_key_for(&app.database_url, &[]);
    let mut args = vec!["junction", "--database-url", &app.database_url];
    args.extend(named.iter().map(String::as_str));
    let settings = junction::cli::Cli::try_parse_from(args).unwrap().settings;
    let secrets = junction::secrets::key::load(&settings).unwrap();
    let db = Database::connect(&app.database_url).await.unwrap();
    let backend = db.get_database_backend();
    let columns = [
        ("webhooks", "id", "secret", purpose::WEBHOOK_SECRET),
        ("webhooks", "id", "previous_secret", purpose::WEBHOOK_SECRET),
        ("integrations", "id", "secret", purpose::INTEGRATION_SECRET),
        ("integrations", "id", "token", purpose::INTEGRATION_TOKEN),
        (
            "integration_points",
            "id",
            "token_local",
            purpose::CHANNEL_TOKEN,
        ),
        (
            "integration_points",
            "id",
            "token_remote",
            purpose::CHANNEL_TOKEN,
        ),
        (
            "integration_points",
            "id",
            "token_remote2",
            purpose::CHANNEL_TOKEN,
        ),
        ("quick_calls", "id", "token", purpose::QUICK_CALL_TOKEN),
        ("instance_settings", "name", "value", purpose::SESSION_KEY),
    ];
    for (table, id, column, purpose) in columns {
        let filter = match table {
            "instance_settings" => " AND name = 'jwt_secret'",
            _ => "",
        };
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT {id}, {column} FROM {table} WHERE {column} IS NOT NULL{filter}"),
            ))
            .await
            .unwrap();
        for row in rows {
            let key: String = row.try_get_by_index(0).unwrap();
            let sealed: String = row.try_get_by_index(1).unwrap();
            let plain = secrets.open(purpose, &sealed).unwrap();
            let update = match backend {
                DbBackend::Postgres => format!("UPDATE {table} SET {column} = $1 WHERE {id} = $2"),
                _ => format!("UPDATE {table} SET {column} = ? WHERE {id} = ?"),
            };
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                update,
                [plain.into(), key.into()],
            ))
            .await
            .unwrap();
        }
    }
    // Quick calls' events carried their URL, token and all.
    let events = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, current_value FROM events WHERE type = 'QUICK_CALL_CREATED'",
        ))
        .await
        .unwrap();
    assert!(!events.is_empty());
    for row in events {
        let id: String = row.try_get_by_index(0).unwrap();
        let mut value: serde_json::Value = row.try_get_by_index(1).unwrap();
        value["url"] = json!(format!("http://127.0.0.1:8080/calls/{call_token}"));
        let update = match backend {
            DbBackend::Postgres => {
                "UPDATE events SET current_value = CAST($1 AS jsonb) WHERE id = $2"
            }
            _ => "UPDATE events SET current_value = ? WHERE id = ?",
        };
        let values = [value.to_string().into(), id.into()];
        db.execute_raw(Statement::from_sql_and_values(backend, update, values))
            .await
            .unwrap();
    }
    for sql in [
        "UPDATE integrations SET token_hash = NULL",
        "UPDATE integration_points SET token_local_hash = NULL",
        "UPDATE quick_calls SET token_hash = NULL",
        "DELETE FROM instance_settings WHERE name = 'secret_key_id'",
    ] {
        db.execute_unprepared(sql).await.unwrap();
    }
    db.close().await.ok();
}

#[tokio::test]
async fn a_database_from_before_sealing_is_sealed_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(&dir).await;
    let flags = ["--allow-private-targets"];
    let app = spawn_on(
        database_url.clone(),
        None,
        dir,
        &unique_redis_prefix(),
        &flags,
    )
    .await;
    let owner = app.register("owner").await;
    let mut receiver = Receiver::start(Answer::Ok).await;
    let made = make_everything(&app, &owner, &receiver).await;
    let session_key = session_key(&app, &[]).await;
    unseal_as_an_older_version_stored_it(&app, &made.call_token).await;
    let before = stored_bytes(&app).await;
    assert!(
        holds(&before, &made.secret),
        "the setup left the secret in clear"
    );

    // A server of this version starts on it: it seals everything in place.
    let again = spawn_on(
        database_url,
        None,
        tempfile::tempdir().unwrap(),
        &unique_redis_prefix(),
        &flags,
    )
    .await;
    let stored = stored_bytes(&again).await;
    for (what, text) in made.plain.iter().chain([&("the session key", session_key)]) {
        assert!(
            !holds(&stored, text),
            "{what} is still stored in clear: {text}"
        );
    }
    // Sessions made with the session key as it was still hold.
    let me = again.ok(Some(&owner.token), ME, json!({})).await;
    assert_eq!(me["me"]["user"]["id"], owner.user_id.as_str());
    everything_works(&again, &owner, &made, &mut receiver).await;
}

#[tokio::test]
async fn rotating_the_key_keeps_every_secret_and_token_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(&dir).await;
    // A key of this test's own: on PostgreSQL, other tests share the
    // default file in the working directory.
    let key_file = dir.path().join("rotated.key").display().to_string();
    let flags = ["--allow-private-targets", "--secret-key-file", &key_file];
    let jwt = format!("test-secret-{}", uuid::Uuid::now_v7());
    let (app, server) = serve_process_on(database_url.clone(), jwt.clone(), dir, &flags).await;
    let owner = app.register("owner").await;
    let mut receiver = Receiver::start(Answer::Ok).await;
    let made = make_everything(&app, &owner, &receiver).await;
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    let before = stored_bytes(&app).await;
    drop(server);

    let rotated = Command::new(env!("CARGO_BIN_EXE_junction"))
        .args(["rotate-secret-key", "--database-url", &database_url])
        .args(["--secret-key-file", &key_file])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&rotated.stdout);
    assert!(
        rotated.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(said.contains("re-sealed"), "{said}");
    assert_ne!(std::fs::read_to_string(&key_file).unwrap(), old_key);
    assert_ne!(stored_bytes(&app).await, before);

    let (again, _server) =
        serve_process_on(database_url, jwt, tempfile::tempdir().unwrap(), &flags).await;
    everything_works(&again, &owner, &made, &mut receiver).await;
    // The rotated-out secret still signs within its grace period.
    let first = &made.plain[0].1;
    again.create_project(&owner, "graced").await;
    assert!(verifies_with(&receiver.next(WAIT).await, first));

    // Started with the old key, a process refuses, saying why.
    std::fs::write(&key_file, old_key).unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_junction"))
        .args(["migrate", "--database-url", &again.database_url])
        .args(["--secret-key-file", &key_file])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("sealed under secret key"), "{said}");
}
