use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn post_raw(app: &TestApp, body: Vec<u8>) -> (StatusCode, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (
        status,
        response.json().await.expect("errors come back as JSON"),
    )
}

#[tokio::test]
async fn malformed_json_is_a_400_with_a_clear_message() {
    let app = spawn_app().await;
    let (status, body) = post_raw(&app, b"{\"query\": ".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code_of(&body).as_deref(), Some("BAD_REQUEST"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not a GraphQL request")
    );
}

#[tokio::test]
async fn an_oversized_body_is_a_413_and_creates_nothing() {
    let app = spawn_app_with(&["--max-body-bytes", "4096"]).await;
    let padding = "x".repeat(8192);
    let body = json!({
        "query": "mutation($input: RegisterInput!) { register(input: $input) { token } }",
        "variables": { "input": { "email": "big@example.com", "name": padding, "password": PASSWORD, "organizationName": "Big" } }
    });
    let (status, body) = post_raw(&app, serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code_of(&body).as_deref(), Some("PAYLOAD_TOO_LARGE"));
    assert_eq!(app.count_rows("users").await, 0);
}

/// A body whose `Content-Length` is over the limit is refused as soon as
/// its headers arrive, not after the body timeout (30 s) for bytes the
/// client may never send, on the GraphQL endpoint and a compatibility route.
#[tokio::test]
async fn a_declared_length_over_the_limit_is_a_413_at_once() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(&["--max-body-bytes", "4096"]).await;
    let hook = format!(
        "/rest/v1/service/integration_points/{}/hook",
        uuid::Uuid::now_v7()
    );
    for path in ["/graphql", &hook] {
        let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
            .await
            .unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: 100000000\r\n\r\n{{\"query\": \""
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 4096];
        // Well short of the body timeout the old answer (408) waited for.
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), conn.read(&mut answer))
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer while the body is still owed"))
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..read]);
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
    }
}

#[tokio::test]
async fn a_batch_past_its_limit_is_a_400_and_runs_nothing() {
    let app = spawn_app_with(&["--graphql-max-batch", "3"]).await;
    let register = |n: usize| {
        json!({
            "query": "mutation($input: RegisterInput!) { register(input: $input) { token } }",
            "variables": { "input": { "email": format!("batch{n}@example.com"), "name": "B", "password": PASSWORD, "organizationName": "B" } }
        })
    };
    let batch: Vec<Value> = (0..4).map(register).collect();
    let (status, body) = post_raw(&app, serde_json::to_vec(&batch).unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code_of(&body).as_deref(), Some("BAD_REQUEST"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 3 operations"),
        "{body}"
    );
    assert_eq!(app.count_rows("users").await, 0);

    let batch: Vec<Value> = (0..3).map(register).collect();
    let (status, body) = post_raw(&app, serde_json::to_vec(&batch).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 3);
    assert_eq!(app.count_rows("users").await, 3);
}

#[tokio::test]
async fn a_too_deep_query_is_refused_before_running() {
    // Introspection has a depth limit of its own (first_hour.rs).
    let app = spawn_app_with(&["--graphql-max-depth", "3"]).await;
    let deep = "{ projects(first: 1) { edges { node { id } } } }";
    let (status, body) = app.graphql(None, deep, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code_of(&body).as_deref(), Some("GRAPHQL_VALIDATION_FAILED"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("nested too deep"),
        "{body}"
    );
}

#[tokio::test]
async fn a_too_complex_query_is_refused_before_running() {
    let app = spawn_app_with(&["--graphql-max-complexity", "50"]).await;
    let owner = app.register("owner").await;
    let query = "{ members(first: 100) { edges { node { id user { id email name } } } } }";
    let (status, body) = app.graphql(Some(&owner.token), query, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code_of(&body).as_deref(), Some("GRAPHQL_VALIDATION_FAILED"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("complex"),
        "{body}"
    );
}

#[tokio::test]
async fn a_page_size_over_the_maximum_is_bad_user_input() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let code = app
        .error_code(
            Some(&owner.token),
            "{ members(first: 1000) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    let response = app.get("/no/such/route").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(code_of(&body).as_deref(), Some("NOT_FOUND"));
}

#[tokio::test]
async fn past_its_inflight_limit_the_server_refuses_with_503_and_changes_nothing() {
    let app = spawn_app_with(&["--max-inflight-requests", "1"]).await;
    let owner = app.register("busy").await;
    let create = "mutation($n: String!) { createProject(input: {name: $n}) { id } }";

    // A write held up by another connection's lock keeps the one permit.
    let lock = app.hold_writes("projects").await;
    let first = tokio::spawn({
        let (client, address, token) =
            (app.client.clone(), app.address.clone(), owner.token.clone());
        async move {
            client
                .post(format!("{address}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": create, "variables": { "n": "first" } }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !app
        .metrics()
        .await
        .contains("junction_http_requests_in_flight 1\n")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the first write never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    let refused = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&owner.token)
        .json(&json!({ "query": create, "variables": { "n": "second" } }))
        // Refused at once, not queued behind the lock.
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .expect("an answer without waiting for the lock");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(code_of(&body).as_deref(), Some("UNAVAILABLE"), "{body}");
    // Probes are answered whatever the load.
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);

    app.release_writes(lock).await;
    let first = first.await.unwrap();
    assert!(first["data"]["createProject"]["id"].is_string(), "{first}");
    assert_eq!(app.count_where("projects", "name = 'second'").await, 0);
    assert!(app.metrics().await.contains(
        r#"junction_http_requests_total{method="POST",route="/graphql",status="503"} 1"#
    ));
    // The permit came back: the server admits again.
    app.create_project(&owner, "third").await;
}

#[tokio::test]
async fn an_open_subscription_does_not_hold_an_inflight_permit() {
    let app = spawn_app_with(&["--max-inflight-requests", "1"]).await;
    let owner = app.register("listening").await;
    let mut events = crate::ws::subscribe(
        &app,
        &owner.token,
        "subscription { events { type } }",
        json!({}),
    )
    .await;
    // The socket stays open; requests are still admitted beside it. (The
    // server may take a moment to start the subscription: projects are
    // made until one is seen.)
    let mut event = None;
    for n in 0..50 {
        app.create_project(&owner, &format!("seen live {n}")).await;
        let wait = std::time::Duration::from_millis(200);
        if let Ok(next) = tokio::time::timeout(wait, events.next()).await {
            event = Some(next.expect("the subscription runs").expect("a payload"));
            break;
        }
    }
    let event = event.expect("an event arrives");
    assert_eq!(
        event["data"]["events"]["type"], "PROJECT_CREATED",
        "{event}"
    );
    assert!(
        app.metrics()
            .await
            .contains("junction_http_requests_in_flight 0\n")
    );
}

/// A client that stops sending its body midway gets 408 once the body
/// timeout passes, and the request slot it held is free again; meanwhile
/// it held one (here the only one).
#[tokio::test]
async fn a_body_that_stalls_is_a_408_and_frees_its_slot() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = spawn_app_with(&[
        "--max-inflight-requests",
        "1",
        "--body-timeout-seconds",
        "1",
    ])
    .await;
    let mut stalled = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    stalled
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: junction\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"query\": ",
        )
        .await
        .unwrap();
    // Let the server take it in before asking for more.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, body) = app.graphql(None, "{ __typename }", json!({})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");

    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stalled.read_to_end(&mut answer),
    )
    .await
    .expect("answered within the timeout and then closed")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"REQUEST_TIMEOUT\""), "{answer}");

    let (status, body) = app.graphql(None, "{ __typename }", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
