//! BeTalk's four routes against the seed's examples: envelope, field names,
//! types (ids as strings, times as integers), errors in the same style.

use serde_json::{Value, json};

use super::{fixtures, workspace};
use crate::helpers::spawn_app;

fn assert_integration_shape(i: &Value) {
    let mut keys: Vec<&str> = i.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "action",
            "created_time",
            "description",
            "id",
            "service",
            "updated_time",
            "webhook_url"
        ],
        "{i}"
    );
    assert!(i["id"].is_string());
    assert!(i["created_time"].is_i64() && i["updated_time"].is_i64());
    let now_ms = chrono::Utc::now().timestamp_millis();
    assert!((now_ms - i["created_time"].as_i64().unwrap()).abs() < 60_000);
    assert!(
        i["webhook_url"]
            .as_str()
            .unwrap()
            .starts_with("https://hub.example.com/webhooks/")
    );
}

#[tokio::test]
async fn the_four_routes_answer_as_the_seed_documents() {
    let app = crate::helpers::spawn_app_with(&["--public-url", "https://hub.example.com/"]).await;
    let (admin, binder) = workspace(&app, "betalk").await;
    let other = app.create_project(&admin, "Second").await;
    let post = |binder: String, body: Value| {
        let app = &app;
        let token = admin.token.clone();
        async move {
            let r = app
                .client
                .post(format!("{}/{binder}/integrations", app.address))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };

    // POST, with the seed's exact request body.
    let (status, created) = post(
        binder.clone(),
        json!({ "service": "github", "action": "chat", "description": "Github version control" }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(created["code"], "RESPONSE_SUCCESS");
    let data = &created["data"];
    assert_integration_shape(data);
    assert_eq!(
        (data["service"].as_str(), data["action"].as_str()),
        (Some("github"), Some("chat"))
    );
    assert_eq!(data["description"], "Github version control");
    assert_eq!(data["created_time"], data["updated_time"]);
    // The seed writes the fields capitalised in its table, and services as
    // `JIRA`, `ZOHO`.
    let (status, jira) = post(
        binder.clone(),
        json!({ "Service": "JIRA", "Action": "todo", "Description": "jira 2" }),
    )
    .await;
    assert_eq!(status, 200, "{jira}");
    assert_eq!(jira["data"]["service"], "jira");
    let (_, zoho) = post(
        other.clone(),
        json!({ "service": "ZOHO", "action": "page" }),
    )
    .await;
    assert_eq!(zoho["data"]["description"], "");

    // GET one binder.
    let r = app
        .client
        .get(format!("{}/{binder}/integrations", app.address))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let listed: Value = r.json().await.unwrap();
    assert_eq!(listed["code"], "RESPONSE_SUCCESS");
    assert_eq!(listed["data"]["binder_id"], json!(binder));
    assert_eq!(listed["data"]["count"], 2);
    let items = listed["data"]["integrations"].as_array().unwrap();
    items.iter().for_each(assert_integration_shape);
    assert_eq!(items[0], created["data"]);
    assert_eq!(items[1]["id"], jira["data"]["id"]);

    // GET /me/integrations: grouped by binder, with counts.
    let r = app
        .client
        .get(format!("{}/me/integrations", app.address))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    let mine: Value = r.json().await.unwrap();
    assert_eq!(mine["code"], "RESPONSE_SUCCESS");
    let binders = mine["data"]["binders"].as_array().unwrap();
    assert_eq!(binders.len(), 2);
    for b in binders {
        let keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 3);
        assert_eq!(
            b["count"].as_u64().unwrap() as usize,
            b["integrations"].as_array().unwrap().len()
        );
        b["integrations"]
            .as_array()
            .unwrap()
            .iter()
            .for_each(assert_integration_shape);
    }
    let counts: Vec<(String, u64)> = binders
        .iter()
        .map(|b| {
            (
                b["binder_id"].as_str().unwrap().to_owned(),
                b["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        counts.contains(&(binder.clone(), 2)) && counts.contains(&(other.clone(), 1)),
        "{counts:?}"
    );

    // DELETE answers exactly `{"code": "RESPONSE_SUCCESS"}`; the URL dies.
    let id = created["data"]["id"].as_str().unwrap();
    let token_path = format!(
        "/webhooks/{}",
        created["data"]["webhook_url"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
    );
    let r = app
        .client
        .delete(format!("{}/{other}/integrations/{id}", app.address))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "another binder's integration is not found there"
    );
    let r = app
        .client
        .delete(format!("{}/{binder}/integrations/{id}", app.address))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "code": "RESPONSE_SUCCESS" })
    );
    assert_eq!(
        fixtures::load("github/push")
            .send(&app, &token_path)
            .await
            .status(),
        404
    );
    let r = app
        .client
        .delete(format!("{}/{binder}/integrations/{id}", app.address))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn errors_come_in_the_same_envelope_and_change_nothing() {
    let app = spawn_app().await;
    let (admin, binder) = workspace(&app, "betalk-errors").await;
    let (member, _) = app.add_member(&admin, "betalk-member", "MEMBER").await;
    let stranger = app.register("betalk-stranger").await;
    let url = format!("{}/{binder}/integrations", app.address);
    let good = json!({ "service": "github", "action": "chat" });
    let cases: Vec<(Option<&str>, Value, u16, &str)> = vec![
        (None, good.clone(), 401, "RESPONSE_ERROR_UNAUTHORIZED"),
        (
            Some("not-a-token"),
            good.clone(),
            401,
            "RESPONSE_ERROR_UNAUTHORIZED",
        ),
        (
            Some(&member.token),
            good.clone(),
            403,
            "RESPONSE_ERROR_PERMISSION",
        ),
        (
            Some(&stranger.token),
            good.clone(),
            404,
            "RESPONSE_ERROR_NOT_FOUND",
        ),
        (
            Some(&admin.token),
            json!({ "service": "gitlab", "action": "chat" }),
            400,
            "RESPONSE_ERROR_INVALID_REQUEST",
        ),
        (
            Some(&admin.token),
            json!({ "service": "github", "action": "email" }),
            400,
            "RESPONSE_ERROR_INVALID_REQUEST",
        ),
        (
            Some(&admin.token),
            json!({ "action": "chat" }),
            400,
            "RESPONSE_ERROR_INVALID_REQUEST",
        ),
        (
            Some(&admin.token),
            json!({ "service": "github", "action": "chat", "description": "d".repeat(1001) }),
            400,
            "RESPONSE_ERROR_INVALID_REQUEST",
        ),
    ];
    for (token, body, status, code) in cases {
        let mut request = app.client.post(&url).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{body}");
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["code"], code, "{answer}");
        assert!(!answer["message"].as_str().unwrap().is_empty());
    }
    let unknown_service: Value = app
        .client
        .post(&url)
        .bearer_auth(&admin.token)
        .json(&json!({ "service": "gitlab", "action": "chat" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        unknown_service["message"]
            .as_str()
            .unwrap()
            .contains("pivotaltracker")
    );
    let r = app
        .client
        .post(&url)
        .bearer_auth(&admin.token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .client
        .get(&url)
        .bearer_auth(&stranger.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(app.count_rows("integrations").await, 0);
}

#[tokio::test]
async fn graphql_manages_the_same_integrations_with_events() {
    let app = spawn_app().await;
    let (admin, project) = workspace(&app, "integrations-graphql").await;
    let mut seen = 0;
    app.new_events(&admin.token, &mut seen).await;
    let data = app
        .ok(
            Some(&admin.token),
            "mutation($p: ID!) { createIntegration(input: {projectId: $p, service: \"Stripe\", action: CHAT, secret: \"whsec_x\"}) { id service action webhookUrl verified secret } }",
            json!({ "p": project }),
        )
        .await;
    let created = &data["createIntegration"];
    assert_eq!(created["service"], "stripe");
    assert_eq!(created["action"], "CHAT");
    assert_eq!(created["verified"], true);
    assert_eq!(created["secret"], "whsec_x");
    assert!(
        created["webhookUrl"]
            .as_str()
            .unwrap()
            .contains("/webhooks/")
    );
    let id = created["id"].as_str().unwrap();
    let data = app
        .ok(
            Some(&admin.token),
            "mutation($id: ID!) { updateIntegration(id: $id, input: {action: TODO, description: \"Billing\", secret: null}) { action description verified } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        data["updateIntegration"],
        json!({ "action": "TODO", "description": "Billing", "verified": false })
    );
    let data = app
        .ok(
            Some(&admin.token),
            "query($p: ID!) { integrations(projectId: $p) { id description } }",
            json!({ "p": project }),
        )
        .await;
    assert_eq!(
        data["integrations"],
        json!([{ "id": id, "description": "Billing" }])
    );
    app.ok(
        Some(&admin.token),
        "mutation($id: ID!) { deleteIntegration(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    let events = app.new_events(&admin.token, &mut seen).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "INTEGRATION_CREATED",
            "INTEGRATION_UPDATED",
            "INTEGRATION_DELETED"
        ]
    );
    assert_eq!(events[1]["previousValue"]["action"], "chat");
    assert_eq!(events[1]["currentValue"]["action"], "todo");
    for e in &events {
        let text = e["currentValue"].to_string();
        assert!(
            !text.contains("whsec_x") && !text.contains("token"),
            "{text}"
        );
    }
    let (member, _) = app
        .add_member(&admin, "integrations-member", "MEMBER")
        .await;
    let code = app
        .error_code(
            Some(&member.token),
            "mutation($p: ID!) { createIntegration(input: {projectId: $p, service: \"github\", action: CHAT}) { id } }",
            json!({ "p": project }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
}
