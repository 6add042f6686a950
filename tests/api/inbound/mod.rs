//! Inbound integrations: services' own webhook requests (fixture files
//! shaped after each service's documented examples) become messages, pages
//! and todos; signatures, duplicates and bad requests; BeTalk's routes.

mod actions;
mod betalk;
mod fixtures;
mod requests;
mod services;
mod signatures;

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp};

/// A registered admin and a project of theirs.
pub async fn workspace(app: &TestApp, label: &str) -> (Session, String) {
    let admin = app.register(label).await;
    let project_id = app.create_project(&admin, "Inbound").await;
    (admin, project_id)
}

/// An integration created through BeTalk's route; returns its id and the
/// path its service posts to (`/webhooks/<token>`).
pub async fn integrate(
    app: &TestApp,
    admin: &Session,
    project_id: &str,
    body: Value,
) -> (String, String) {
    let response = app
        .client
        .post(format!("{}/{project_id}/integrations", app.address))
        .bearer_auth(&admin.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "RESPONSE_SUCCESS", "{body}");
    let url = body["data"]["webhook_url"].as_str().unwrap();
    let token = url.rsplit('/').next().unwrap();
    (
        body["data"]["id"].as_str().unwrap().to_owned(),
        format!("/webhooks/{token}"),
    )
}

/// The project's messages, oldest first: `(id, text, authorName)`.
pub async fn messages(app: &TestApp, token: &str, project_id: &str) -> Vec<Value> {
    let data = app
        .ok(
            Some(token),
            "query($id: ID!) { project(id: $id) { messages(first: 100) { edges { node { id text authorName authorIntegrationId } } } } }",
            json!({ "id": project_id }),
        )
        .await;
    data["project"]["messages"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}
