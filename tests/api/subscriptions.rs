use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use graphql_ws_client::Client;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    helpers::*,
    ws::{Operation, close_code, connect},
};

/// Creates projects until the test is done, so an event is sure to follow
/// the subscription however long the server takes to register it.
fn keep_creating_projects(app: &TestApp, owner: &Session) -> tokio::task::JoinHandle<()> {
    let (address, token) = (app.address.clone(), owner.token.clone());
    tokio::spawn(async move {
        let client = crate::helpers::client();
        for i in 0..100 {
            let body = json!({
                "query": "mutation($n: String!) { createProject(input: {name: $n}) { id } }",
                "variables": { "n": format!("live {i}") }
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

#[tokio::test]
async fn graphql_transport_ws_client_receives_events_of_its_organization_only() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let stranger = app.register("stranger").await;

    let connection = connect(&app, "graphql-transport-ws").await;
    let mut stream = Client::build(connection)
        .payload(json!({ "Authorization": format!("Bearer {}", owner.token) }))
        .unwrap()
        .subscribe(Operation {
            query: "subscription { events(types: [\"PROJECT_CREATED\"]) { type actorId currentValue } }",
            variables: json!({}),
        })
        .await
        .expect("subscribed");

    let strangers_changes = keep_creating_projects(&app, &stranger);
    let owners_changes = keep_creating_projects(&app, &owner);
    let item = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("an event arrives")
        .expect("stream open")
        .expect("valid response");
    owners_changes.abort();
    strangers_changes.abort();

    let event = &item["data"]["events"];
    assert_eq!(event["type"], "PROJECT_CREATED", "{item}");
    assert_eq!(event["actorId"], owner.user_id.as_str());
    assert_eq!(
        event["currentValue"]["company"]["id"],
        owner.organization_id.as_str()
    );
}

#[tokio::test]
async fn legacy_graphql_ws_protocol_works_too() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let mut ws = connect(&app, "graphql-ws").await;
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(
        json!({ "type": "connection_init", "payload": { "token": owner.token } }),
    ))
    .await
    .unwrap();
    ws.send(send(json!({ "id": "1", "type": "start", "payload": { "query": "subscription { events { type } }" } })))
        .await
        .unwrap();
    let changes = keep_creating_projects(&app, &owner);

    let data = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Text(text) = message {
                let v: Value = serde_json::from_str(&text).unwrap();
                if v["type"] == "data" {
                    return v;
                }
            }
        }
        panic!("socket closed before any data");
    })
    .await
    .expect("data arrives");
    changes.abort();
    assert_eq!(data["id"], "1");
    assert_eq!(data["payload"]["data"]["events"]["type"], "PROJECT_CREATED");
}

#[tokio::test]
async fn a_bad_token_in_connection_init_is_refused() {
    let app = spawn_app().await;
    let connection = connect(&app, "graphql-transport-ws").await;
    let result = Client::build(connection)
        .payload(json!({ "token": "not-a-token" }))
        .unwrap()
        .subscribe(Operation {
            query: "subscription { events { type } }",
            variables: json!({}),
        })
        .await;
    assert!(
        result.is_err(),
        "subscription must not start with a bad token"
    );
}

#[tokio::test]
async fn subscribing_without_a_token_is_unauthenticated() {
    let app = spawn_app().await;
    let connection = connect(&app, "graphql-transport-ws").await;
    let mut stream = Client::build(connection)
        .subscribe(Operation {
            query: "subscription { events { type } }",
            variables: json!({}),
        })
        .await
        .expect("an anonymous connection is accepted");
    let item = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an answer");
    let text = format!("{item:?}");
    assert!(text.contains("UNAUTHENTICATED"), "{text}");
}

/// graphql-transport-ws: a socket that never sends `connection_init` is
/// closed with 4408 instead of being held open for good.
#[tokio::test]
async fn a_socket_that_never_initialises_is_closed_with_4408() {
    let app = spawn_app().await;
    let mut socket = connect(&app, "graphql-transport-ws").await;
    assert_eq!(close_code(&mut socket, Duration::from_secs(20)).await, 4408);
}

/// A message sent in continuation frames may not grow past the body
/// limit: the socket is closed with 1009 (too big) rather than the server
/// gathering frames for as long as they come.
#[tokio::test]
async fn a_message_past_the_body_limit_closes_the_socket_with_1009() {
    use tokio_tungstenite::tungstenite::protocol::frame::{
        Frame,
        coding::{Data, OpCode},
    };

    let app = spawn_app_with(&["--max-body-bytes", "4096"]).await;
    let mut socket = connect(&app, "graphql-transport-ws").await;
    let chunk = vec![b' '; 1024];
    socket
        .send(Message::Frame(Frame::message(
            chunk.clone(),
            OpCode::Data(Data::Text),
            false,
        )))
        .await
        .unwrap();
    for _ in 0..8 {
        // The server may close before the last frames are sent.
        if socket
            .send(Message::Frame(Frame::message(
                chunk.clone(),
                OpCode::Data(Data::Continue),
                false,
            )))
            .await
            .is_err()
        {
            break;
        }
    }
    assert_eq!(close_code(&mut socket, Duration::from_secs(10)).await, 1009);
}

/// One socket runs at most 100 subscriptions at once: the next is refused
/// with an error for its id, and room made by completing one is usable.
#[tokio::test]
async fn a_socket_runs_at_most_a_hundred_subscriptions() {
    let app = spawn_app().await;
    let owner = app.register("many").await;
    let mut socket = connect(&app, "graphql-transport-ws").await;
    let send = |value: Value| Message::Text(value.to_string().into());
    socket
        .send(send(
            json!({ "type": "connection_init", "payload": { "token": owner.token } }),
        ))
        .await
        .unwrap();
    let subscribe = |id: &str| {
        send(json!({
            "type": "subscribe", "id": id,
            "payload": { "query": "subscription { events { type } }" }
        }))
    };
    for id in 0..100 {
        socket.send(subscribe(&id.to_string())).await.unwrap();
    }
    socket.send(subscribe("one too many")).await.unwrap();
    socket
        .send(send(json!({ "type": "complete", "id": "0" })))
        .await
        .unwrap();
    socket.send(subscribe("in its place")).await.unwrap();
    // Something for the subscriptions to see, until the new one sees it.
    let changes = tokio::spawn({
        let (address, token) = (app.address.clone(), owner.token.clone());
        async move {
            for i in 0..50 {
                crate::helpers::client()
                    .post(format!("{address}/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({ "query": format!("mutation {{ createProject(input: {{name: \"p{i}\"}}) {{ id }} }}") }))
                    .send()
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    let (mut refused, mut replaced) = (None, false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !(refused.is_some() && replaced) {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("the refusal and an event for the new subscription")
            .unwrap()
            .unwrap();
        let Message::Text(text) = message else {
            continue;
        };
        let message: Value = serde_json::from_str(&text).unwrap();
        match (message["type"].as_str(), message["id"].as_str()) {
            (Some("error"), Some("one too many")) => refused = Some(message),
            (Some("error"), id) => panic!("only the 101st is refused, not {id:?}"),
            (Some("next"), Some("in its place")) => replaced = true,
            _ => {}
        }
    }
    changes.abort();
    let refused = refused.unwrap();
    assert!(
        refused["payload"][0]["message"]
            .as_str()
            .unwrap()
            .contains("100 subscriptions"),
        "{refused}"
    );
}
