//! Integration points (seed 002): the REST resource with every parameter
//! and the LOOKUP method, bad parameters refused, and a channel working both
//! ways: ws_hook → project → send_to_web.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{Session, TestApp, spawn_app_with},
    receiver::{Answer, Receiver},
};

const BASE: &str = "/rest/v1/service/integration_points";

struct Points {
    app: TestApp,
    admin: Session,
    project: String,
}

impl Points {
    async fn start(extra: &[&str]) -> Points {
        let app = spawn_app_with(extra).await;
        let admin = app.register("points").await;
        let project = app.create_project(&admin, "Channels").await;
        Points {
            app,
            admin,
            project,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .app
            .client
            .request(method, format!("{}{BASE}{path}", self.app.address))
            .bearer_auth(&self.admin.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let r = request.send().await.unwrap();
        let status = r.status();
        let content_type = r.headers().get("content-type").cloned();
        let text = r.text().await.unwrap();
        if !text.is_empty() {
            // As every response of the seed's document says.
            assert_eq!(
                content_type.unwrap(),
                "application/json; charset=utf-8",
                "{text}"
            );
        }
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap()
            },
        )
    }

    /// The seed's example entity, as a client would send it back.
    fn seed_entity(&self, code: &str, kind: &str) -> Value {
        json!({
            "id": "b4680fbe-016c-d86f-1d6b-50e54938780c",
            "code": code,
            "type": kind,
            "token_local": "82ddc7c68623726346a78371173e2f8d",
            "token_remote": "",
            "token_remote2": "",
            "url": "http://trapper.com",
            "recv_svcscriptcode": "ws_hook",
            "recv_svcscriptcode_ws": "",
            "send_svcscriptcode": "",
            "send_svcscriptcode_ws": "",
            "opts": { "title": "", "comment": "", "allow_files_api": false, "issync": false },
            "ext": { "ct": "2019-08-28T13:34:16.42Z", "lwt": "2019-08-28T13:34:16.42Z" },
            "project_id": self.project,
        })
    }
}

fn assert_entity_shape(e: &Value) {
    let mut keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "code",
            "ext",
            "id",
            "opts",
            "project_id",
            "recv_svcscriptcode",
            "recv_svcscriptcode_ws",
            "send_svcscriptcode",
            "send_svcscriptcode_ws",
            "token_local",
            "token_remote",
            "token_remote2",
            "type",
            "url"
        ],
        "{e}"
    );
    let mut opts: Vec<&str> = e["opts"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    opts.sort();
    assert_eq!(opts, ["allow_files_api", "comment", "issync", "title"]);
    for t in ["ct", "lwt"] {
        let s = e["ext"][t].as_str().unwrap();
        // 2019-08-28T13:34:16.42Z
        assert_eq!(s.len(), 23, "{s}");
        assert!(s.ends_with('Z') && s.as_bytes()[19] == b'.', "{s}");
        chrono::DateTime::parse_from_rfc3339(s).unwrap();
    }
    let token = e["token_local"].as_str().unwrap();
    assert!(
        token.len() == 32 && token.chars().all(|c| c.is_ascii_hexdigit()),
        "{token}"
    );
}

#[tokio::test]
async fn the_resource_answers_every_request_of_the_seed() {
    let p = Points::start(&[]).await;
    // POST: the server assigns id, token_local and ext.
    let (status, created) = p
        .call(Method::POST, "", Some(p.seed_entity("ABCDE", "public")))
        .await;
    assert_eq!(status, 200, "{created}");
    assert_entity_shape(&created);
    assert_ne!(created["id"], "b4680fbe-016c-d86f-1d6b-50e54938780c");
    assert_ne!(created["token_local"], "82ddc7c68623726346a78371173e2f8d");
    assert_eq!(
        (created["code"].as_str(), created["type"].as_str()),
        (Some("ABCDE"), Some("public"))
    );
    assert_eq!(created["url"], "http://trapper.com");
    assert_eq!(created["ext"]["ct"], created["ext"]["lwt"]);
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, second) = p
        .call(Method::POST, "", Some(p.seed_entity("902", "telegram")))
        .await;
    p.call(Method::POST, "", Some(p.seed_entity("777", "telegram")))
        .await;

    // GET list, as the seed: offset=0&limit=2.
    let (status, listed) = p.call(Method::GET, "?offset=0&limit=2", None).await;
    assert_eq!(status, 200);
    let items = listed.as_array().unwrap();
    assert_eq!(items.len(), 2);
    items.iter().for_each(assert_entity_shape);
    assert_eq!(items[0], created);
    let (_, rest) = p.call(Method::GET, "?offset=2&limit=2", None).await;
    assert_eq!(rest.as_array().unwrap().len(), 1);

    // filter, order, mask, flat.
    let q = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let (_, telegram) = p
        .call(
            Method::GET,
            &format!(
                "?filter={}&order={}",
                q(r#"{"type":"telegram"}"#),
                q(r#"["-code"]"#)
            ),
            None,
        )
        .await;
    let codes: Vec<&str> = telegram
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["902", "777"]);
    let (_, none) = p
        .call(
            Method::GET,
            &format!("?filter={}", q(r#"{"opts":{"issync":true}}"#)),
            None,
        )
        .await;
    assert_eq!(none, json!([]));
    let (_, masked) = p
        .call(
            Method::GET,
            &format!("?mask={}&order=code", q("id,code,opts.title,ext.ct")),
            None,
        )
        .await;
    let first = &masked[0];
    assert_eq!(first["code"], "777");
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["code", "ext", "id", "opts"]);
    assert_eq!(first["opts"], json!({ "title": "" }));
    let (_, flat) = p
        .call(
            Method::GET,
            &format!(
                "/{id}?mask={}&flat=true",
                q("id,opts.title,opts.issync,ext.lwt")
            ),
            None,
        )
        .await;
    assert_eq!(
        flat,
        json!({ "id": id, "opts.title": "", "opts.issync": false, "ext.lwt": created["ext"]["lwt"] })
    );

    // GET by id.
    let (status, one) = p.call(Method::GET, &format!("/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(one, created);

    // PATCH, as the seed: token_remote set; lwt moves, ct stays.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (status, patched) = p
        .call(
            Method::PATCH,
            &format!("/{id}"),
            Some(json!({ "token_remote": "00ea293c29f9dc30" })),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["token_remote"], "00ea293c29f9dc30");
    assert_eq!(patched["ext"]["ct"], created["ext"]["ct"]);
    assert_ne!(patched["ext"]["lwt"], created["ext"]["lwt"]);
    assert_eq!(patched["token_local"], created["token_local"]);
    // Sending the unchanged id and token_local back is fine; changing them is not.
    let (status, _) = p.call(Method::PATCH, &format!("/{id}"), Some(json!({ "id": id, "token_local": created["token_local"], "opts": { "issync": true } }))).await;
    assert_eq!(status, 200);
    for bad in [
        json!({ "token_local": "ffffffffffffffffffffffffffffffff" }),
        json!({ "id": second["id"] }),
    ] {
        let (status, error) = p
            .call(Method::PATCH, &format!("/{id}"), Some(bad.clone()))
            .await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(error["error_code"], 1400);
        assert!(
            error["error_message"]
                .as_str()
                .unwrap()
                .contains("cannot be changed")
        );
    }
    let (_, after) = p.call(Method::GET, &format!("/{id}"), None).await;
    assert_eq!(after["token_local"], created["token_local"]);

    // LOOKUP by token_local, code and id.
    for key in [created["token_local"].clone(), json!("ABCDE"), json!(id)] {
        let (status, found) = p
            .call(
                Method::from_bytes(b"LOOKUP").unwrap(),
                "",
                Some(key.clone()),
            )
            .await;
        assert_eq!(status, 200, "{key}");
        assert_eq!(found, json!([id]));
    }
    let (status, missing) = p
        .call(
            Method::from_bytes(b"LOOKUP").unwrap(),
            "",
            Some(json!("82ddc7c68623726346a78371173e2f8d")),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        missing,
        json!({ "error_code": 1404, "error_message": "Lookup failed" })
    );

    // DELETE answers 204; then it is gone.
    let (status, body) = p.call(Method::DELETE, &format!("/{id}"), None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, gone) = p.call(Method::GET, &format!("/{id}"), None).await;
    assert_eq!(status, 404);
    assert_eq!(gone["error_code"], 1404);
}

#[tokio::test]
async fn bad_parameters_are_refused_with_a_clear_message_and_change_nothing() {
    let p = Points::start(&[]).await;
    p.call(Method::POST, "", Some(p.seed_entity("A", "public")))
        .await;
    let q = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    for (query, says) in [
        (
            format!("filter={}", q(r#"{"secret":"x"}"#)),
            "unknown field",
        ),
        (format!("filter={}", q(r#"{"code":1}"#)), "string"),
        (
            format!("filter={}", q(r#"{"opts.issync":"yes"}"#)),
            "boolean",
        ),
        (format!("filter={}", q(r#"{"code":"x' OR '1'='1"#)), "JSON"),
        (
            format!("filter={}", q(r#"{"code) OR 1=1 --":"x"}"#)),
            "unknown field",
        ),
        (format!("order={}", q(r#"["nope"]"#)), "unknown field"),
        (
            format!("order={}", q("code; DROP TABLE integration_points")),
            "unknown field",
        ),
        (format!("order={}", q(r#"[{"code":"sideways"}]"#)), "asc"),
        (format!("mask={}", q("id,password")), "unknown field"),
        ("limit=-1".to_owned(), "limit"),
        ("limit=5000".to_owned(), "limit"),
        ("offset=abc".to_owned(), "offset"),
        ("flat=maybe".to_owned(), "flat"),
    ] {
        let (status, error) = p.call(Method::GET, &format!("?{query}"), None).await;
        assert_eq!(status, 400, "{query}: {error}");
        assert_eq!(error["error_code"], 1400);
        assert!(
            error["error_message"].as_str().unwrap().contains(says),
            "{query}: {error}"
        );
    }
    for bad in [
        json!({ "code": "B", "project_id": p.project, "color": "red" }),
        json!({ "code": "B" }),
        json!({ "code": 5, "project_id": p.project }),
        json!({ "code": "B", "project_id": p.project, "send_svcscriptcode": "send_to_web", "url": "" }),
        json!({ "code": "B", "project_id": p.project, "send_svcscriptcode": "send_to_web", "url": "http://127.0.0.1:9/hook" }),
        json!({ "code": "B", "project_id": uuid::Uuid::now_v7().to_string() }),
    ] {
        let (status, error) = p.call(Method::POST, "", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {error}");
        assert_eq!(error["error_code"], 1400);
    }
    let (status, error) = p
        .call(
            Method::from_bytes(b"LOOKUP").unwrap(),
            "",
            Some(json!({ "code": "A" })),
        )
        .await;
    assert_eq!(
        (status.as_u16(), error["error_code"].as_i64()),
        (400, Some(1400))
    );
    assert_eq!(p.app.count_rows("integration_points").await, 1);
    assert_eq!(p.app.count_rows("webhooks").await, 0);

    let r = p.app.get(BASE).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error_code"], 1401);
    let (member, _) = p.app.add_member(&p.admin, "points-member", "MEMBER").await;
    let r = p
        .app
        .client
        .get(format!("{}{BASE}", p.app.address))
        .bearer_auth(&member.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn a_channel_works_both_ways_ws_hook_in_and_send_to_web_out() {
    let mut receiver = Receiver::start(Answer::Ok).await;
    let p = Points::start(&["--allow-private-targets"]).await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let mut entity = p.seed_entity("TWO-WAY", "public");
    entity["url"] = json!(receiver.url);
    entity["send_svcscriptcode"] = json!("send_to_web");
    entity["token_remote"] = json!(secret);
    entity["opts"]["title"] = json!("Support desk");
    let (status, channel) = p.call(Method::POST, "", Some(entity)).await;
    assert_eq!(status, 200, "{channel}");
    let id = channel["id"].as_str().unwrap();
    let hook = format!("{}{BASE}/{id}/hook", p.app.address);

    // In: a wrong token is refused; the right one posts into the project.
    let r = p
        .app
        .client
        .post(&hook)
        .bearer_auth("0000")
        .json(&json!({ "text": "hi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = p
        .app
        .client
        .post(&hook)
        .bearer_auth(channel["token_local"].as_str().unwrap())
        .json(&json!({ "text": "Hello from the web widget" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let data = p
        .app
        .ok(Some(&p.admin.token), "query($p: ID!) { project(id: $p) { messages(first: 10) { edges { node { text authorName authorIntegrationId } } } } }", json!({ "p": p.project }))
        .await;
    let first = &data["project"]["messages"]["edges"][0]["node"];
    assert_eq!(first["text"], "Hello from the web widget");
    assert_eq!(first["authorName"], "Support desk");
    assert_eq!(first["authorIntegrationId"], json!(id));

    // Out: a member's reply goes to `url`, signed; the channel's own message
    // was not echoed back.
    p.app
        .ok(Some(&p.admin.token), "mutation($p: ID!) { postMessage(projectId: $p, input: {text: \"We are on it\"}) { id } }", json!({ "p": p.project }))
        .await;
    let delivered = receiver.next(Duration::from_secs(15)).await;
    assert_eq!(delivered.header("x-junction-event"), "MESSAGE_CREATED");
    let payload = delivered.json();
    assert_eq!(payload["currentValue"]["text"], "We are on it");
    let verifier = standardwebhooks::Webhook::new(secret).unwrap();
    verifier
        .verify(&delivered.body, &delivered.headers)
        .expect("signed with token_remote");
    assert!(
        receiver.drain(Duration::from_millis(800)).await.is_empty(),
        "the channel's own message came back"
    );

    // Switching forwarding off removes the channel's webhook.
    let (status, _) = p
        .call(
            Method::PATCH,
            &format!("/{id}"),
            Some(json!({ "send_svcscriptcode": "" })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(p.app.count_rows("webhooks").await, 0);
    p.app
        .ok(
            Some(&p.admin.token),
            "mutation($p: ID!) { postMessage(projectId: $p, input: {text: \"quiet\"}) { id } }",
            json!({ "p": p.project }),
        )
        .await;
    assert!(receiver.drain(Duration::from_millis(800)).await.is_empty());
    let (status, _) = p
        .call(
            Method::PATCH,
            &format!("/{id}"),
            Some(json!({ "recv_svcscriptcode": "" })),
        )
        .await;
    assert_eq!(status, 200);
    let r = p
        .app
        .client
        .post(&hook)
        .bearer_auth(channel["token_local"].as_str().unwrap())
        .json(&json!({ "text": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "a channel that no longer receives has no inbound URL"
    );
}

#[tokio::test]
async fn points_are_scoped_to_the_organization() {
    let p = Points::start(&[]).await;
    let (_, created) = p
        .call(Method::POST, "", Some(p.seed_entity("MINE", "public")))
        .await;
    let app = &p.app;
    let stranger = app.register("points-stranger").await;
    let id = created["id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, format!("/{id}")),
        (Method::DELETE, format!("/{id}")),
    ] {
        let r = app
            .client
            .request(method, format!("{}{BASE}{path}", app.address))
            .bearer_auth(&stranger.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
    let r = app
        .client
        .request(
            Method::from_bytes(b"LOOKUP").unwrap(),
            format!("{}{BASE}", app.address),
        )
        .bearer_auth(&stranger.token)
        .json(&json!("MINE"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .client
        .get(format!("{}{BASE}", app.address))
        .bearer_auth(&stranger.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
}

#[tokio::test]
async fn graphql_manages_the_same_points() {
    let p = Points::start(&[]).await;
    let token = Some(p.admin.token.as_str());
    let data = p
        .app
        .ok(
            token,
            "mutation($p: ID!) { createIntegrationPoint(input: {projectId: $p, code: \"GQL\", type: \"telegram\", recvSvcscriptcode: \"ws_hook\", opts: {title: \"Bot\", issync: true}}) { id code type tokenLocal opts { title issync allowFilesApi } ext { ct lwt } } }",
            json!({ "p": p.project }),
        )
        .await;
    let created = &data["createIntegrationPoint"];
    assert_eq!(created["type"], "telegram");
    assert_eq!(
        created["opts"],
        json!({ "title": "Bot", "issync": true, "allowFilesApi": false })
    );
    assert_eq!(created["tokenLocal"].as_str().unwrap().len(), 32);
    let id = created["id"].as_str().unwrap();
    // The REST resource sees the same point.
    let (_, rest) = p.call(Method::GET, &format!("/{id}"), None).await;
    assert_eq!(rest["opts"]["title"], "Bot");
    let data = p
        .app
        .ok(token, "query($f: String!) { integrationPoints(filter: $f, order: \"[\\\"-code\\\"]\") { code } }", json!({ "f": r#"{"opts.issync": true}"# }))
        .await;
    assert_eq!(data["integrationPoints"], json!([{ "code": "GQL" }]));
    let code = p
        .app
        .error_code(
            token,
            "query { integrationPoints(filter: \"{\\\"secret\\\": 1}\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    let data = p
        .app
        .ok(token, "mutation($id: ID!) { updateIntegrationPoint(id: $id, input: {code: \"GQL2\"}) { code } }", json!({ "id": id }))
        .await;
    assert_eq!(data["updateIntegrationPoint"]["code"], "GQL2");
    p.app
        .ok(
            token,
            "mutation($id: ID!) { deleteIntegrationPoint(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    let (status, _) = p.call(Method::GET, &format!("/{id}"), None).await;
    assert_eq!(status, 404);
    let mut seen = 0;
    let events = p.app.new_events(&p.admin.token, &mut seen).await;
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .filter(|t| t.starts_with("INTEGRATION_POINT"))
        .collect();
    assert_eq!(
        types,
        [
            "INTEGRATION_POINT_CREATED",
            "INTEGRATION_POINT_UPDATED",
            "INTEGRATION_POINT_DELETED"
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| !e["currentValue"].to_string().contains("token_local"))
    );
}
