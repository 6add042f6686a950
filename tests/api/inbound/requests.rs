//! Bad requests change nothing; a provider's retry creates nothing twice.

use serde_json::{Value, json};

use super::{fixtures, integrate, workspace};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn rows(app: &TestApp) -> (i64, i64, i64, i64) {
    (
        app.count_rows("messages").await,
        app.count_rows("pages").await,
        app.count_rows("todos").await,
        app.count_rows("events").await,
    )
}

#[tokio::test]
async fn unknown_tokens_large_and_unreadable_bodies_are_refused_and_change_nothing() {
    let app = spawn_app_with(&["--max-body-bytes", "4096"]).await;
    let (admin, project) = workspace(&app, "inbound-errors").await;
    let (_, path) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "github", "action": "chat" }),
    )
    .await;
    let before = rows(&app).await;

    let push = fixtures::load("github/push");
    let response = push.send(&app, "/webhooks/not-a-token-of-ours").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "RESPONSE_ERROR_NOT_FOUND");
    assert!(body["message"].as_str().unwrap().contains("integration"));

    let huge = json!({ "text": "x".repeat(8192) }).to_string();
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .header("content-type", "application/json")
        .header("x-github-event", "push")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "RESPONSE_ERROR_TOO_LARGE");

    for (content_type, bad) in [
        ("application/json", "{\"ref\": \"refs/heads/main\", "),
        ("text/plain", "just some words"),
        ("application/json", ""),
    ] {
        let response = app
            .client
            .post(format!("{}{path}", app.address))
            .header("content-type", content_type)
            .header("x-github-event", "push")
            .body(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{bad:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "RESPONSE_ERROR_INVALID_REQUEST");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(rows(&app).await, before);
}

#[tokio::test]
async fn the_default_size_limit_is_one_mebibyte() {
    let app = spawn_app().await;
    let (admin, project) = workspace(&app, "inbound-mib").await;
    let (_, path) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "incoming", "action": "chat" }),
    )
    .await;
    let url = format!("{}{path}", app.address);
    let over = json!({ "text": "x".repeat(1024 * 1024) }).to_string();
    let response = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(over)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let under = json!({ "text": "y".repeat(1000) }).to_string();
    let response = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(under)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(app.count_rows("messages").await, 1);
}

#[tokio::test]
async fn a_providers_retry_of_the_same_delivery_creates_nothing_twice() {
    let app = spawn_app().await;
    let (admin, project) = workspace(&app, "inbound-dupes").await;
    let (_, github) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "github", "action": "todo" }),
    )
    .await;
    let push = fixtures::load("github/push");
    let first: Value = {
        let r = push.send(&app, &github).await;
        assert_eq!(r.status(), 201);
        r.json().await.unwrap()
    };
    let again = push.send(&app, &github).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["data"]["duplicate"], true);
    assert_eq!(again["data"]["id"], first["data"]["id"]);
    assert_eq!(again["data"]["type"], "todo");
    // A new delivery id is a new delivery.
    let other = push
        .send_with(
            &app,
            &github,
            &[(
                "X-GitHub-Delivery",
                "0b7e3a52-0000-4000-8000-000000000001".into(),
            )],
        )
        .await;
    assert_eq!(other.status(), 201);
    assert_eq!(app.count_rows("todos").await, 2);

    // Stripe retries carry the same event id; PagerDuty the same event.id;
    // any service the Standard Webhooks `webhook-id`.
    let (_, stripe) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "stripe", "action": "chat" }),
    )
    .await;
    let (_, pagerduty) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "pagerduty", "action": "chat" }),
    )
    .await;
    let (_, datadog) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "datadog", "action": "chat" }),
    )
    .await;
    for (fixture, path, extra) in [
        ("stripe/charge_succeeded", &stripe, vec![]),
        ("pagerduty/incident_triggered", &pagerduty, vec![]),
        (
            "datadog/monitor_alert",
            &datadog,
            vec![("webhook-id", "msg_2b8RfLZzY4sTbQ5FjNhGx1".to_owned())],
        ),
    ] {
        let f = fixtures::load(fixture);
        assert_eq!(
            f.send_with(&app, path, &extra).await.status(),
            201,
            "{fixture}"
        );
        assert_eq!(
            f.send_with(&app, path, &extra).await.status(),
            200,
            "{fixture}"
        );
    }
    assert_eq!(app.count_rows("messages").await, 3);
    assert_eq!(app.count_rows("inbound_receipts").await, 5);
}

#[tokio::test]
async fn concurrent_copies_of_one_delivery_make_one_message() {
    let app = spawn_app().await;
    let (admin, project) = workspace(&app, "inbound-race").await;
    let (_, github) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "github", "action": "chat" }),
    )
    .await;
    let push = fixtures::load("github/push");
    let sends = (0..8).map(|_| push.send(&app, &github));
    let statuses: Vec<u16> = futures_util::future::join_all(sends)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 200),
        "{statuses:?}"
    );
    assert_eq!(app.count_rows("messages").await, 1);
}
