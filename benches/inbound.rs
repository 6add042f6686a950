//! Inbound webhook throughput, and the time from a service's request to the
//! chat message reaching a GraphQL subscriber. Everything on this machine:
//! the real server, its database, this process's clients posting GitHub
//! `push` deliveries (each with its own `X-GitHub-Delivery`), and one
//! graphql-ws-client subscribed to `messageAdded`.
//!
//! cargo bench --bench inbound
//! BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/postgres cargo bench --bench inbound

mod support;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use graphql_ws_client::{Client, graphql::GraphqlOperation};
use serde::Serialize;
use serde_json::{Value, json};
use support::{Figures, Server, concurrency, load, run_seconds};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};

#[derive(Serialize)]
struct Operation {
    query: &'static str,
    variables: Value,
}

impl GraphqlOperation for Operation {
    type Response = Value;
    type Error = serde_json::Error;
    fn decode(&self, data: Value) -> Result<Value, Self::Error> {
        Ok(data)
    }
}

/// A GitHub push whose first commit message carries the request's number.
fn push(i: usize) -> Vec<u8> {
    json!({
        "ref": "refs/heads/main",
        "compare": "https://github.com/octo-org/hello-world/compare/a...b",
        "commits": [{
            "id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
            "message": format!("bench #{i}#"),
            "author": { "name": "Mona Lisa Octocat" }
        }],
        "repository": { "full_name": "octo-org/hello-world", "html_url": "https://github.com/octo-org/hello-world" },
        "pusher": { "name": "octocat" },
        "sender": { "login": "octocat" }
    })
    .to_string()
    .into_bytes()
}

async fn run(label: &str, postgres: Option<&str>) {
    let server = Server::start(postgres, &[]).await;
    junction::startup::install_crypto_provider();
    let client = support::client();
    let base = server.base.clone();
    let support::Owner { token, project, .. } = support::owner_with_project(&client, &base).await;
    let created: Value = client
        .post(format!("{base}/{project}/integrations"))
        .bearer_auth(&token)
        .json(&json!({ "service": "github", "action": "chat" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hook_token = created["data"]["webhook_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let hook = format!("{base}/webhooks/{hook_token}");

    // The subscriber: when each numbered message arrived.
    let mut request = format!("{}/graphql", base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut stream = Client::build(socket)
        .payload(json!({ "token": token }))
        .unwrap()
        .subscribe(Operation {
            query: "subscription($p: ID!) { messageAdded(projectId: $p) { text } }",
            variables: json!({ "p": project }),
        })
        .await
        .unwrap();
    let seen: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
    let seen_by_subscriber = seen.clone();
    tokio::spawn(async move {
        while let Some(Ok(item)) = stream.next().await {
            let text = item["data"]["messageAdded"]["text"].as_str().unwrap_or("");
            if let Some(n) = text
                .split("bench #")
                .nth(1)
                .and_then(|rest| rest.split('#').next())
                .and_then(|n| n.parse().ok())
            {
                seen_by_subscriber.lock().unwrap().insert(n, Instant::now());
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let sent_at: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
    let (c, h, sent) = (client.clone(), hook.clone(), sent_at.clone());
    let figures = load(
        "  POST /webhooks/{token} (GitHub push)",
        concurrency(),
        run_seconds(),
        1_000_000,
        move |i| {
            let (client, hook, sent) = (c.clone(), h.clone(), sent.clone());
            async move {
                sent.lock().unwrap().insert(i, Instant::now());
                let response = client
                    .post(&hook)
                    .header("content-type", "application/json")
                    .header("x-github-event", "push")
                    .header("x-github-delivery", uuid::Uuid::now_v7().to_string())
                    .body(push(i))
                    .send()
                    .await;
                matches!(response, Ok(r) if r.status().as_u16() == 201)
            }
        },
    )
    .await;
    println!("-- {label}");
    figures.print();

    let accepted = figures.latencies.len();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().len() < accepted && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent = sent_at.lock().unwrap();
    let visible: Vec<Duration> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(i, at)| Some(at.duration_since(*sent.get(i)?)))
        .collect();
    let subscriber = Figures {
        label: String::new(),
        latencies: visible,
        errors: 0,
        elapsed: figures.elapsed,
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  request → message at subscriber           p50 {:>7.2} ms   p99 {:>7.2} ms   ({} of {accepted} seen)",
        ms(subscriber.percentile(0.50)),
        ms(subscriber.percentile(0.99)),
        subscriber.latencies.len(),
    );
    println!("  RSS peak: server {:.1} MiB", server.rss_mib().1);
}

#[tokio::main]
async fn main() {
    if support::run_sqlite() {
        run("embedded defaults: SQLite", None).await;
    }
    if let Ok(pg) = std::env::var("BENCH_POSTGRES_URL") {
        run("PostgreSQL", Some(&pg)).await;
    }
}
