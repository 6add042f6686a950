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

#[tokio::test]
async fn a_too_deep_query_is_refused_before_running() {
    let app = spawn_app().await;
    let deep = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } }";
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
    let response = app
        .client
        .get(format!("{}/no/such/route", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(code_of(&body).as_deref(), Some("NOT_FOUND"));
}
