//! Live subscriptions over the workspace, in one process and across two.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;

use crate::{helpers::*, ws::subscribe};

/// Posts messages into `project` on `app` until aborted.
fn keep_posting(app: &TestApp, token: &str, project: &str) -> tokio::task::JoinHandle<()> {
    let (address, token, project) = (app.address.clone(), token.to_owned(), project.to_owned());
    tokio::spawn(async move {
        let client = crate::helpers::client();
        for i in 0..200 {
            let body = json!({
                "query": "mutation($p: ID!, $t: String!) { postMessage(projectId: $p, input: {text: $t}) { id } }",
                "variables": { "p": project, "t": format!("message {i}") }
            });
            client
                .post(format!("{address}/graphql"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

async fn new_project(app: &TestApp, who: &Session) -> String {
    let data = app
        .ok(
            Some(&who.token),
            "mutation { createProject(input: {name: \"Live\"}) { id } }",
            json!({}),
        )
        .await;
    data["createProject"]["id"].as_str().unwrap().to_owned()
}

const MESSAGE_ADDED: &str =
    "subscription($p: ID!) { messageAdded(projectId: $p) { text projectId author { id } } }";

#[tokio::test]
async fn message_added_streams_new_messages_of_the_project() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let project = new_project(&app, &owner).await;
    let other = new_project(&app, &owner).await;
    let mut stream = subscribe(&app, &owner.token, MESSAGE_ADDED, json!({ "p": project })).await;

    let noise = keep_posting(&app, &owner.token, &other);
    let posting = keep_posting(&app, &owner.token, &project);
    let item = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("a message arrives")
        .unwrap()
        .unwrap();
    posting.abort();
    noise.abort();
    let message = &item["data"]["messageAdded"];
    assert_eq!(message["projectId"], project.as_str(), "{item}");
    assert!(message["text"].as_str().unwrap().starts_with("message "));
    assert_eq!(message["author"]["id"], owner.user_id.as_str());
}

#[tokio::test]
async fn subscribing_to_an_invisible_project_is_not_found() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let stranger = app.register("stranger").await;
    let project = new_project(&app, &owner).await;
    let mut stream = subscribe(
        &app,
        &stranger.token,
        MESSAGE_ADDED,
        json!({ "p": project }),
    )
    .await;
    let item = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an answer");
    assert!(format!("{item:?}").contains("NOT_FOUND"), "{item:?}");
}

/// Subscribed on one server, changed through another: the event crosses
/// processes through Redis pub/sub (PostgreSQL + Redis, see `services`).
#[tokio::test]
async fn events_cross_server_instances_through_redis() {
    let test = "events_cross_server_instances_through_redis";
    let Some((postgres, redis)) = crate::services::postgres_and_redis(test).await else {
        return;
    };
    let database_url = fresh_postgres_database(&postgres).await;
    let prefix = unique_redis_prefix();
    let flags = ["--redis-url", &redis, "--redis-prefix", &prefix];
    let secret = Some(format!("shared-secret-{}", uuid::Uuid::now_v7()));
    let dir = || tempfile::tempdir().unwrap();
    let first = spawn_on(database_url.clone(), secret.clone(), dir(), &prefix, &flags).await;
    let second = spawn_on(database_url, secret, dir(), &prefix, &flags).await;
    let owner = first.register("owner").await;
    let project = new_project(&first, &owner).await;

    let mut stream = subscribe(&first, &owner.token, MESSAGE_ADDED, json!({ "p": project })).await;
    let posting = keep_posting(&second, &owner.token, &project);
    let item = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("a message arrives")
        .unwrap()
        .unwrap();
    posting.abort();
    assert_eq!(item["data"]["messageAdded"]["projectId"], project.as_str());
}
