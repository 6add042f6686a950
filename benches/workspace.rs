//! Workspace throughput and latency against the real server:
//! an authenticated read (a project's first 20 todos with assignees) and the
//! `createTodo` mutation, on SQLite and, when BENCH_POSTGRES_URL is set
//! (e.g. postgres://postgres@127.0.0.1/postgres), on PostgreSQL.
//!
//! Two more lines show what this machine allows before any domain work: the
//! same clients against `GET /healthz` (HTTP alone) and an authenticated
//! `{ __typename }` (HTTP, authentication and GraphQL, no database).
//!
//! cargo bench --bench workspace

mod support;

use serde_json::json;
use support::{CpuUse, Server, concurrency, gql, load, posting, run_seconds};

const READ: &str = "query($p: ID!) { project(id: $p) { todos(first: 20) { edges { node { id title done assignees { id name } } } } } }";
const CREATE: &str =
    "mutation($l: ID!, $t: String!) { createTodo(input: {todoListId: $l, title: $t}) { id } }";

async fn run(backend: &str, postgres: Option<&str>) {
    let server = Server::start(postgres, &[]).await;
    junction::startup::install_crypto_provider();
    let client = support::client();
    let base = server.base.clone();

    // A workspace to read: one project, one list, 20 todos, two assignees each.
    let support::Owner {
        token,
        user_id: owner,
        project,
    } = support::owner_with_project(&client, &base).await;
    // A second member, who joins as people do: registers, is invited,
    // accepts.
    let register = "mutation { register(input: {email: \"second@example.com\", name: \"Second\", password: \"benchmark-password\", organizationName: \"Second's\"}) { token } }";
    let second_token = gql(&client, &base, None, register, json!({})).await["register"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let invite =
        "mutation { addMember(input: {email: \"second@example.com\", role: MEMBER}) { id token } }";
    let invited = gql(&client, &base, Some(&token), invite, json!({})).await;
    let accept =
        "mutation($id: ID!, $t: String!) { acceptInvitation(id: $id, token: $t) { user { id } } }";
    let accepted = gql(
        &client,
        &base,
        Some(&second_token),
        accept,
        json!({ "id": invited["addMember"]["id"], "t": invited["addMember"]["token"] }),
    )
    .await;
    let second = accepted["acceptInvitation"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = gql(
        &client,
        &base,
        Some(&token),
        "mutation($p: ID!) { createTodoList(projectId: $p, title: \"L\") { id } }",
        json!({ "p": project }),
    )
    .await;
    let list = list["createTodoList"]["id"].as_str().unwrap().to_owned();
    for i in 0..20 {
        let seed = "mutation($l: ID!, $t: String!, $a: [ID!]!) { createTodo(input: {todoListId: $l, title: $t, assigneeIds: $a}) { id } }";
        gql(
            &client,
            &base,
            Some(&token),
            seed,
            json!({ "l": list, "t": format!("todo {i}"), "a": [owner, second] }),
        )
        .await;
    }

    let (clients, seconds) = (concurrency(), run_seconds());
    let read = {
        let project = project.clone();
        posting(
            &client,
            &base,
            &token,
            move |_| json!({ "query": READ, "variables": { "p": project } }),
        )
    };
    // Warm-up, then the measured run.
    load(
        "warm-up",
        clients,
        std::time::Duration::from_secs(2),
        1_000_000,
        read.clone(),
    )
    .await;
    let cpu = CpuUse::start(&[("server", server.pid())]);
    let figures = load(
        &format!("{backend}: read 20 todos + assignees"),
        clients,
        seconds,
        2_000_000,
        read,
    )
    .await;
    figures.print();
    cpu.print(&format!("{backend}: read"), figures.latencies.len(), "read");
    let (rss, peak) = server.rss_mib();
    println!(
        "{:<44} RSS {rss:.1} MiB (peak {peak:.1} MiB)",
        format!("{backend}: server memory after reads")
    );

    // The ceilings the read is measured against.
    let health = {
        let (client, base) = (client.clone(), base.clone());
        move |_| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let response = client.get(format!("{base}/healthz")).send().await;
                match response {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        }
    };
    let figures = load(
        &format!("{backend}: ceiling, GET /healthz"),
        clients,
        seconds,
        2_000_000,
        health,
    )
    .await;
    figures.print();
    let typename = posting(
        &client,
        &base,
        &token,
        |_| json!({ "query": "{ __typename }" }),
    );
    let figures = load(
        &format!("{backend}: ceiling, {{ __typename }}"),
        clients,
        seconds,
        2_000_000,
        typename,
    )
    .await;
    figures.print();

    let create = posting(
        &client,
        &base,
        &token,
        move |i| json!({ "query": CREATE, "variables": { "l": list, "t": format!("bench {i}") } }),
    );
    let cpu = CpuUse::start(&[("server", server.pid())]);
    let figures = load(
        &format!("{backend}: createTodo"),
        clients,
        seconds,
        2_000_000,
        create,
    )
    .await;
    figures.print();
    cpu.print(
        &format!("{backend}: createTodo"),
        figures.latencies.len(),
        "todo",
    );
    let (rss, peak) = server.rss_mib();
    println!(
        "{:<44} RSS {rss:.1} MiB (peak {peak:.1} MiB)",
        format!("{backend}: server memory after writes")
    );
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    println!(
        "{} concurrent clients, {} s per run, client and server on this machine\n",
        concurrency(),
        run_seconds().as_secs()
    );
    if support::run_sqlite() {
        run("sqlite", None).await;
    }
    if let Ok(postgres) = std::env::var("BENCH_POSTGRES_URL") {
        run("postgres", Some(&postgres)).await;
    }
}
