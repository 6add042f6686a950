//! What the databases refuse reaches callers as a clear error, not as an
//! internal one: PostgreSQL's text without NUL, its deadlock victims.

use junction::error::AppError;
use sea_orm::{ConnectionTrait, Database, TransactionTrait};
use serde_json::json;

use crate::{
    helpers::*,
    inbound::{integrate, messages, workspace},
};

fn on_postgres(app: &TestApp) -> bool {
    app.database_url.starts_with("postgres")
}

#[tokio::test]
async fn text_with_a_nul_is_refused_where_the_database_cannot_store_it() {
    let app = spawn_app().await;
    let owner = app.register("nul").await;
    let project = app.create_project(&owner, "Nul").await;
    let (status, body) = app
        .graphql(
            Some(&owner.token),
            "mutation($p: ID!, $t: String!) { createPage(projectId: $p, title: $t) { title } }",
            json!({ "p": project, "t": "a\u{0}b" }),
        )
        .await;
    assert_eq!(status, 200);
    if on_postgres(&app) {
        assert_eq!(code_of(&body).as_deref(), Some("BAD_USER_INPUT"), "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("NUL"),
            "{body}"
        );
        assert_eq!(app.count_rows("pages").await, 0);
        assert_eq!(app.count_where("events", "type = 'PAGE_CREATED'").await, 0);
    } else {
        // SQLite keeps text as sent.
        assert_eq!(body["data"]["createPage"]["title"], "a\u{0}b", "{body}");
    }

    // The REST routes share the rule: Chat&Messenger's sendMessage.
    let response = app
        .client
        .post(format!("{}/sendMessage", app.address))
        .bearer_auth(&owner.token)
        .json(&json!({ "panelName": "Nul", "message": "c\u{0}d" }))
        .send()
        .await
        .unwrap();
    if on_postgres(&app) {
        assert_eq!(response.status(), 400);
        assert_eq!(app.count_rows("messages").await, 0);
    } else {
        assert!(response.status().is_success(), "{}", response.status());
    }
}

#[tokio::test]
async fn a_services_payload_with_a_nul_is_kept_with_a_replacement_character() {
    let app = spawn_app().await;
    let (admin, project) = workspace(&app, "inbound-nul").await;
    let (_, path) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "incoming", "action": "chat" }),
    )
    .await;
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .header("content-type", "application/json")
        .body(r#"{"text": "build 7\u0000 passed"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let messages = messages(&app, &admin.token, &project).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["text"], "build 7\u{FFFD} passed");
}

/// PostgreSQL undoes one of two transactions that wait on each other;
/// that one is `UNAVAILABLE` (503, retry), not an internal error.
#[tokio::test]
async fn a_deadlock_victim_is_told_to_retry() {
    // SQLite's one writer takes transactions one at a time: no deadlock.
    let Some(postgres) = crate::services::postgres("a_deadlock_victim_is_told_to_retry").await
    else {
        return;
    };
    let database_url = fresh_postgres_database(&postgres).await;
    let (a, b) = (
        Database::connect(&database_url).await.unwrap(),
        Database::connect(&database_url).await.unwrap(),
    );
    a.execute_unprepared(
        "CREATE TABLE locks (id INT PRIMARY KEY); INSERT INTO locks VALUES (1), (2)",
    )
    .await
    .unwrap();
    let (ta, tb) = (a.begin().await.unwrap(), b.begin().await.unwrap());
    let lock = |id| format!("UPDATE locks SET id = id WHERE id = {id}");
    ta.execute_unprepared(&lock(1)).await.unwrap();
    tb.execute_unprepared(&lock(2)).await.unwrap();
    let (lock_1, lock_2) = (lock(1), lock(2));
    let (ra, rb) = tokio::join!(ta.execute_unprepared(&lock_2), async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        tb.execute_unprepared(&lock_1).await
    });
    let victim = match (ra, rb) {
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => e,
        other => panic!("one transaction is undone: {other:?}"),
    };
    let err = AppError::from(victim);
    assert_eq!(err.code(), "UNAVAILABLE", "{err}");
    assert_eq!(err.status(), 503);
}
