//! Managing outbound webhooks (Blue's shape and names).

use serde_json::json;

use crate::helpers::*;

const CREATE: &str = "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id uid name url secret status enabled metadata { events projectIds } createdById } }";

#[tokio::test]
async fn an_admin_creates_updates_lists_and_deletes_webhooks() {
    let app = spawn_app_with(&["--allow-private-targets"]).await;
    let owner = app.register("owner").await;
    let project = app
        .ok(
            Some(&owner.token),
            "mutation { createProject(input: {name: \"P\"}) { id } }",
            json!({}),
        )
        .await;
    let project = project["createProject"]["id"].as_str().unwrap().to_owned();

    let input = json!({ "name": "Testing webhook", "url": "http://127.0.0.1:9/hook", "events": ["todo_created", "COMMENT_CREATED"], "projectIds": [project] });
    let created = app
        .ok(Some(&owner.token), CREATE, json!({ "i": input }))
        .await["createWebhook"]
        .clone();
    assert_eq!(created["status"], "HEALTHY");
    assert_eq!(created["enabled"], true);
    assert_eq!(
        created["metadata"]["events"],
        json!(["COMMENT_CREATED", "TODO_CREATED"])
    );
    assert_eq!(created["metadata"]["projectIds"], json!([project]));
    assert_eq!(created["createdById"], owner.user_id.as_str());
    assert_eq!(created["uid"].as_str().unwrap().len(), 32);
    assert!(
        created["secret"].as_str().unwrap().starts_with("whsec_"),
        "a secret is generated"
    );
    let id = created["id"].as_str().unwrap().to_owned();

    let update = "mutation($id: ID!) { updateWebhook(id: $id, input: {enabled: false, events: [], secret: \"secret\"}) { enabled secret metadata { events } } }";
    let updated = app
        .ok(Some(&owner.token), update, json!({ "id": id }))
        .await;
    assert_eq!(
        updated["updateWebhook"],
        json!({ "enabled": false, "secret": "secret", "metadata": { "events": [] } })
    );

    let listed = app
        .ok(Some(&owner.token), "{ webhooks { id name } }", json!({}))
        .await;
    assert_eq!(
        listed["webhooks"],
        json!([{ "id": id, "name": "Testing webhook" }])
    );

    // The event carries the webhook with its secret blanked, as in Blue's
    // example payload.
    let events = app.ok(Some(&owner.token), "{ events(types: [\"WEBHOOK_UPDATED\"]) { edges { node { currentValue previousValue } } } }", json!({})).await;
    let event = &events["events"]["edges"][0]["node"];
    assert_eq!(event["currentValue"]["enabled"], false);
    assert_eq!(event["previousValue"]["enabled"], true);
    assert_eq!(event["currentValue"]["secret"], "");

    app.ok(
        Some(&owner.token),
        "mutation($id: ID!) { deleteWebhook(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    let code = app
        .error_code(
            Some(&owner.token),
            "query($id: ID!) { webhook(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");
}

#[tokio::test]
async fn private_targets_are_refused_by_default() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest",
        "http://10.0.0.1/x",
        "ftp://example.com/",
        // IPv6 forms that carry a loopback or private IPv4 address.
        "http://[::127.0.0.1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:0:7f00:1]/hook",
        "http://[2002:7f00:1::]/hook",
        "http://[2002:a9fe:a9fe::1]/latest",
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",
        "http://[64:ff9b::7f00:1]/hook",
        "http://[64:ff9b::a00:1]/hook",
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
    ] {
        let code = app
            .error_code(
                Some(&owner.token),
                CREATE,
                json!({ "i": { "name": "w", "url": url } }),
            )
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{url}");
    }
    assert_eq!(app.count_rows("webhooks").await, 0);
}

#[tokio::test]
async fn webhooks_are_for_admins_of_the_organization_only() {
    let app = spawn_app_with(&["--allow-private-targets"]).await;
    let owner = app.register("owner").await;
    let (bob, _) = app.add_member(&owner, "bob", "MEMBER").await;
    let stranger = app.register("stranger").await;
    let input = json!({ "i": { "name": "w", "url": "http://127.0.0.1:9/hook" } });
    assert_eq!(
        app.error_code(Some(&bob.token), CREATE, input.clone())
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.error_code(Some(&bob.token), "{ webhooks { id } }", json!({}))
            .await,
        "FORBIDDEN"
    );
    let id = app.ok(Some(&owner.token), CREATE, input).await["createWebhook"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let delete = "mutation($id: ID!) { deleteWebhook(id: $id) { id } }";
    assert_eq!(
        app.error_code(Some(&stranger.token), delete, json!({ "id": id }))
            .await,
        "NOT_FOUND"
    );

    let bad = [
        json!({ "name": "w", "url": "http://127.0.0.1:9/", "events": ["NOT_AN_EVENT"] }),
        json!({ "name": "w", "url": "http://127.0.0.1:9/", "projectIds": ["0190b5f2-0000-7000-8000-000000000000"] }),
        json!({ "name": " ", "url": "http://127.0.0.1:9/" }),
    ];
    for input in bad {
        assert_eq!(
            app.error_code(Some(&owner.token), CREATE, json!({ "i": input }))
                .await,
            "BAD_USER_INPUT"
        );
    }
    assert_eq!(app.count_rows("webhooks").await, 1);
}

async fn create_webhook(app: &TestApp, token: &str, input: serde_json::Value) -> String {
    let data = app
        .ok(
            Some(token),
            "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }",
            json!({ "i": input }),
        )
        .await;
    data["createWebhook"]["id"].as_str().unwrap().to_owned()
}

async fn deliveries(app: &TestApp, token: &str, webhook: &str) -> Vec<serde_json::Value> {
    let query = "query($w: ID!) { deliveries(webhookId: $w) { totalCount edges { node { id eventType status attempts eventId } } } }";
    let data = app.ok(Some(token), query, json!({ "w": webhook })).await;
    data["deliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[tokio::test]
async fn changes_record_one_pending_delivery_per_matching_webhook_in_their_transaction() {
    // No workers: this is about what the outbox records, before anyone sends.
    let app = spawn_app_with(&["--allow-private-targets", "--in-process-workers", "false"]).await;
    let owner = app.register("owner").await;
    let make_project = "mutation($n: String!) { createProject(input: {name: $n}) { id } }";
    let p1 = app
        .ok(Some(&owner.token), make_project, json!({ "n": "one" }))
        .await["createProject"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p2 = app
        .ok(Some(&owner.token), make_project, json!({ "n": "two" }))
        .await["createProject"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = "http://127.0.0.1:9/hook";
    let all = create_webhook(&app, &owner.token, json!({ "name": "all", "url": url })).await;
    let lists_in_p1 = create_webhook(
        &app,
        &owner.token,
        json!({ "name": "lists", "url": url, "events": ["TODO_LIST_CREATED"], "projectIds": [p1] }),
    )
    .await;
    let off = create_webhook(
        &app,
        &owner.token,
        json!({ "name": "off", "url": url, "enabled": false }),
    )
    .await;
    let before_all = deliveries(&app, &owner.token, &all).await.len();

    let make_list = "mutation($p: ID!) { createTodoList(projectId: $p, title: \"L\") { id } }";
    app.ok(Some(&owner.token), make_list, json!({ "p": p1 }))
        .await;
    app.ok(Some(&owner.token), make_list, json!({ "p": p2 }))
        .await;
    app.ok(
        Some(&owner.token),
        "mutation($p: ID!) { createPage(projectId: $p, title: \"x\") { id } }",
        json!({ "p": p1 }),
    )
    .await;

    let to_all = deliveries(&app, &owner.token, &all).await;
    assert_eq!(
        to_all.len() - before_all,
        3,
        "every event reaches the unfiltered webhook"
    );
    assert!(
        to_all
            .iter()
            .all(|d| d["status"] == "PENDING" && d["attempts"] == 0)
    );
    let to_lists = deliveries(&app, &owner.token, &lists_in_p1).await;
    assert_eq!(to_lists.len(), 1);
    assert_eq!(to_lists[0]["eventType"], "TODO_LIST_CREATED");
    assert!(
        deliveries(&app, &owner.token, &off).await.is_empty(),
        "disabled webhooks get nothing"
    );

    // A refused change records neither its event nor a delivery.
    let rows = app.count_rows("deliveries").await;
    assert_eq!(
        app.error_code(
            Some(&owner.token),
            make_list,
            json!({ "p": "0190b5f2-0000-7000-8000-000000000000" })
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(app.count_rows("deliveries").await, rows);

    // Deliveries are for admins.
    let (bob, _) = app.add_member(&owner, "bob", "MEMBER").await;
    let code = app
        .error_code(
            Some(&bob.token),
            "query($w: ID!) { deliveries(webhookId: $w) { totalCount } }",
            json!({ "w": all }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
}

#[tokio::test]
async fn a_change_to_a_webhook_applies_from_the_next_event_whoever_wrote_it() {
    // Each process keeps its organizations' webhook filters in memory; any
    // write to them, through the API or straight to the database by
    // another process, must reach the next event.
    let app = spawn_app_with(&["--allow-private-targets", "--in-process-workers", "false"]).await;
    let owner = app.register("owner").await;
    let project = app.create_project(&owner, "p").await;
    let hook = create_webhook(
        &app,
        &owner.token,
        json!({ "name": "lists", "url": "http://127.0.0.1:9/hook", "events": ["TODO_LIST_CREATED"] }),
    )
    .await;
    let make_list = "mutation($p: ID!) { createTodoList(projectId: $p, title: \"L\") { id } }";
    let make_page = "mutation($p: ID!) { createPage(projectId: $p, title: \"x\") { id } }";
    let vars = json!({ "p": project });
    // How many deliveries of each kind the webhook has: (lists, pages).
    let delivered = async || {
        let all = deliveries(&app, &owner.token, &hook).await;
        let of = |kind: &str| all.iter().filter(|d| d["eventType"] == kind).count();
        (of("TODO_LIST_CREATED"), of("PAGE_CREATED"))
    };

    app.ok(Some(&owner.token), make_list, vars.clone()).await;
    app.ok(Some(&owner.token), make_page, vars.clone()).await;
    assert_eq!(delivered().await, (1, 0));

    let update =
        "mutation($id: ID!, $i: UpdateWebhookInput!) { updateWebhook(id: $id, input: $i) { id } }";
    app.ok(
        Some(&owner.token),
        update,
        json!({ "id": hook, "i": { "events": [] } }),
    )
    .await;
    app.ok(Some(&owner.token), make_page, vars.clone()).await;
    assert_eq!(
        delivered().await,
        (1, 1),
        "an emptied event filter lets every event through"
    );

    app.ok(
        Some(&owner.token),
        update,
        json!({ "id": hook, "i": { "enabled": false } }),
    )
    .await;
    app.ok(Some(&owner.token), make_list, vars.clone()).await;
    assert_eq!(delivered().await, (1, 1), "a disabled webhook gets nothing");

    app.execute_sql(&format!(
        "UPDATE webhooks SET enabled = true WHERE id = '{hook}'"
    ))
    .await;
    app.ok(Some(&owner.token), make_page, vars.clone()).await;
    assert_eq!(
        delivered().await,
        (1, 2),
        "enabled again by another process, the webhook gets the next event"
    );

    app.execute_sql(&format!(
        "UPDATE webhooks SET project_ids = '[\"0190b5f2-0000-7000-8000-000000000000\"]' WHERE id = '{hook}'"
    ))
    .await;
    app.ok(Some(&owner.token), make_page, vars.clone()).await;
    assert_eq!(
        delivered().await,
        (1, 2),
        "filtered to another project by another process, the webhook gets nothing more"
    );
}

#[tokio::test]
async fn a_todo_made_after_another_process_changed_the_webhooks_is_written_once_and_matched_anew() {
    // On PostgreSQL a todo, its event and its deliveries go as one
    // statement when the process knows the webhooks; changed since by
    // another process, that statement writes nothing and the todo is
    // written by the transaction instead: once, and matched against the
    // webhooks as they are now.
    let app = spawn_app_with(&["--allow-private-targets", "--in-process-workers", "false"]).await;
    let owner = app.register("owner").await;
    let project = app.create_project(&owner, "p").await;
    let list = app.create_todo_list(&owner, &project).await;
    let make_todo = async |title: &str| {
        app.ok(
            Some(&owner.token),
            "mutation($l: ID!, $t: String!) { createTodo(input: {todoListId: $l, title: $t}) { id position } }",
            json!({ "l": list, "t": title }),
        )
        .await["createTodo"]["position"]
            .as_f64()
            .unwrap()
    };
    // Before the organization's first webhook, and after.
    assert_eq!(make_todo("no webhooks").await, 65535.0);
    assert_eq!(make_todo("still none").await, 131070.0);
    let hook = create_webhook(
        &app,
        &owner.token,
        json!({ "name": "todos", "url": "http://127.0.0.1:9/hook", "events": ["TODO_CREATED"] }),
    )
    .await;
    let delivered = async || deliveries(&app, &owner.token, &hook).await.len();
    assert_eq!(make_todo("first").await, 196605.0);
    assert_eq!(delivered().await, 1, "the first webhook gets the next todo");
    app.execute_sql(&format!(
        "UPDATE webhooks SET enabled = false WHERE id = '{hook}'"
    ))
    .await;
    assert_eq!(make_todo("second").await, 262140.0);
    assert_eq!(delivered().await, 1, "disabled by another process");
    app.execute_sql(&format!(
        "UPDATE webhooks SET enabled = true WHERE id = '{hook}'"
    ))
    .await;
    assert_eq!(make_todo("third").await, 327675.0);
    assert_eq!(delivered().await, 2, "enabled again by another process");
    assert_eq!(app.count_rows("todos").await, 5);
    assert_eq!(app.count_where("events", "type = 'TODO_CREATED'").await, 5);
}

/// Webhook changes in one organization run one at a time: each rewrites
/// the organization's webhook version and delivers its event to the other
/// webhooks, so on PostgreSQL two deletes at once deadlocked (most of them
/// answered UNAVAILABLE after a second).
#[tokio::test]
async fn webhooks_deleted_all_at_once_are_all_deleted() {
    // No workers: only the deletions meet (a worker recording a failed
    // attempt while its webhook is deleted is another matter).
    let app = spawn_app_with(&[
        "--allow-private-targets",
        "--database-max-connections",
        "16",
        "--in-process-workers",
        "false",
    ])
    .await;
    let owner = app.register("owner").await;
    let mut ids = Vec::new();
    for n in 0..6 {
        let input = json!({ "name": format!("hook {n}"), "url": "http://127.0.0.1:9/hook" });
        ids.push(create_webhook(&app, &owner.token, input).await);
    }
    let deleting = ids.iter().map(|id| {
        app.graphql(
            Some(&owner.token),
            "mutation($id: ID!) { deleteWebhook(id: $id) { id } }",
            json!({ "id": id }),
        )
    });
    for (_, body) in futures_util::future::join_all(deleting).await {
        assert!(body.get("errors").is_none(), "{body}");
    }
    let left = app
        .ok(Some(&owner.token), "{ webhooks { id } }", json!({}))
        .await;
    assert_eq!(left["webhooks"], json!([]));
}
