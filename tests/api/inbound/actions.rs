//! The three actions: a chat message, a page, a todo in the integration's
//! own list; each with the usual events.

use serde_json::{Value, json};

use super::{fixtures, integrate, workspace};
use crate::helpers::spawn_app;

#[tokio::test]
async fn chat_page_and_todo_actions_create_what_they_say_with_events() {
    let app = spawn_app().await;
    let (admin, project) = workspace(&app, "inbound-actions").await;
    let mut seen = 0;
    app.new_events(&admin.token, &mut seen).await;

    // chat
    let (chat_id, chat) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "github", "action": "chat" }),
    )
    .await;
    app.new_events(&admin.token, &mut seen).await;
    let response = fixtures::load("github/issues_opened")
        .send(&app, &chat)
        .await;
    assert_eq!(response.status(), 201);
    let events = app.new_events(&admin.token, &mut seen).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "MESSAGE_CREATED");
    assert_eq!(events[0]["projectId"], json!(project));
    assert_eq!(events[0]["actorId"], Value::Null);
    assert_eq!(
        events[0]["currentValue"]["authorIntegrationId"],
        json!(chat_id)
    );

    // page
    let (_, page) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "PagerDuty", "action": "page" }),
    )
    .await;
    app.new_events(&admin.token, &mut seen).await;
    let response = fixtures::load("pagerduty/incident_triggered")
        .send(&app, &page)
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["type"], "page");
    let data = app
        .ok(
            Some(&admin.token),
            "query($id: ID!) { page(id: $id) { title body } }",
            json!({ "id": body["data"]["id"] }),
        )
        .await;
    assert_eq!(
        data["page"]["title"],
        "Incident #2 triggered: A little bump in the road"
    );
    let page_body = data["page"]["body"].as_str().unwrap();
    assert!(page_body.contains("Service: API Service"), "{page_body}");
    assert!(page_body.ends_with("https://acme.pagerduty.com/incidents/PGR0VU2"));
    let events = app.new_events(&admin.token, &mut seen).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["PAGE_CREATED"]);

    // todo: a list named after the integration, made once and reused
    let (_, todo) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "JIRA", "action": "todo", "description": "Ops tickets" }),
    )
    .await;
    app.new_events(&admin.token, &mut seen).await;
    for name in ["jira/issue_created", "jira/comment_created"] {
        let response = fixtures::load(name).send(&app, &todo).await;
        assert_eq!(response.status(), 201, "{name}");
    }
    let events = app.new_events(&admin.token, &mut seen).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["TODO_LIST_CREATED", "TODO_CREATED", "TODO_CREATED"]);
    assert_eq!(events[0]["currentValue"]["title"], "Ops tickets");
    let created = &events[1]["currentValue"];
    assert_eq!(
        created["title"],
        "Priya Raman created bug OPS-42: Backups fail on the EU cluster"
    );
    assert_eq!(created["todoList"]["title"], "Ops tickets");
    assert_eq!(created["todoList"]["project"]["id"], json!(project));
    assert!(created["text"].as_str().unwrap().contains("Priority: High"));
    assert_eq!(
        app.count_where("todo_lists", "title = 'Ops tickets'").await,
        1
    );
    assert_eq!(app.count_rows("todos").await, 2);
}

#[tokio::test]
async fn a_deleted_integration_list_is_made_again() {
    let app = spawn_app().await;
    let (admin, project) = workspace(&app, "inbound-list").await;
    let (_, todo) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "zendesk", "action": "todo" }),
    )
    .await;
    let response = fixtures::load("zendesk/ticket_created")
        .send(&app, &todo)
        .await;
    let body: Value = response.json().await.unwrap();
    let data = app
        .ok(
            Some(&admin.token),
            "query($id: ID!) { todo(id: $id) { todoList { id title } } }",
            json!({ "id": body["data"]["id"] }),
        )
        .await;
    assert_eq!(data["todo"]["todoList"]["title"], "Zendesk");
    app.ok(
        Some(&admin.token),
        "mutation($id: ID!) { deleteTodoList(id: $id) { id } }",
        json!({ "id": data["todo"]["todoList"]["id"] }),
    )
    .await;
    let response = fixtures::load("zendesk/ticket_status_changed")
        .send(&app, &todo)
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(app.count_where("todo_lists", "title = 'Zendesk'").await, 1);
    assert_eq!(app.count_rows("todos").await, 1);
}
