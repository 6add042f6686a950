//! Chat&Messenger's routes (seed 001): every sample request replayed (the
//! samples' typos corrected to valid JSON), sent as curl sends it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, spawn_app};

struct Cam {
    app: TestApp,
    admin: Session,
    api_token: String,
}

impl Cam {
    async fn start(label: &str) -> Cam {
        let app = spawn_app().await;
        let admin = app.register(label).await;
        let (api_token, _) = app.create_api_token(&admin, "cam").await;
        Cam {
            app,
            admin,
            api_token,
        }
    }

    /// `curl -H "x-cam-apiToken:…" -d <body> ${serverURL}/<call>`.
    async fn curl(&self, call: &str, body: &str) -> (StatusCode, Value) {
        let r = self
            .app
            .client
            .post(format!("{}/{call}", self.app.address))
            .header("x-cam-apiToken", &self.api_token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .app
            .client
            .get(format!("{}/{path}", self.app.address))
            .header("x-cam-apiToken", &self.api_token)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }

    /// A member of the organization with a known e-mail; returns (email, id).
    async fn member(&self, label: &str) -> (String, String) {
        let (member, _) = self.app.add_member(&self.admin, label, "MEMBER").await;
        let me = self
            .app
            .ok(Some(&member.token), "{ me { user { email } } }", json!({}))
            .await;
        let email = me["me"]["user"]["email"].as_str().unwrap().to_owned();
        (email, member.user_id)
    }

    async fn room(&self, name: &str) -> String {
        self.app.create_project(&self.admin, name).await
    }

    async fn messages(&self, project: &str) -> Vec<Value> {
        let data = self
            .app
            .ok(
                Some(&self.admin.token),
                "query($p: ID!) { project(id: $p) { kind messages(first: 50) { edges { node { id text sealed mentions author { id } } } } } }",
                json!({ "p": project }),
            )
            .await;
        data["project"]["messages"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .collect()
    }
}

fn error_message(body: &Value) -> &str {
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no errors: {body}"))
}

#[tokio::test]
async fn send_message_to_users_by_email_and_into_a_room_by_name() {
    let cam = Cam::start("cam-send").await;
    let (user1, id1) = cam.member("user1").await;
    let (user2, id2) = cam.member("user2").await;

    // Sample 1: messenger, direct messages to each listed user.
    let body = format!(
        r#"message={{"panelName":"messenger","message":"Xin chào\nlần thứ hai","isOpened":false,"generalPurposes":{{"users":"{user1},{user2}"}}}}"#
    );
    let (status, reply) = cam.curl("sendMessage", &body).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["result"], "success");
    let sent = reply["messages"].as_array().unwrap();
    assert_eq!(sent.len(), 2);
    for (s, (email, id)) in sent.iter().zip([(&user1, &id1), (&user2, &id2)]) {
        assert_eq!(s["to"], json!(email));
        let messages = cam.messages(s["chatRoomId"].as_str().unwrap()).await;
        assert_eq!(messages.len(), 1);
        assert_eq!(
            messages[0]["text"], "Xin chào\nlần thứ hai",
            "line breaks are kept"
        );
        assert_eq!(messages[0]["sealed"], false);
        assert_eq!(messages[0]["author"]["id"], json!(cam.admin.user_id));
        let data = cam
            .app
            .ok(
                Some(&cam.admin.token),
                "query($p: ID!) { project(id: $p) { kind members { id } } }",
                json!({ "p": s["chatRoomId"] }),
            )
            .await;
        assert_eq!(data["project"]["kind"], "DIRECT");
        let members: Vec<&str> = data["project"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert!(
            members.contains(&id.as_str()) && members.len() == 2,
            "{members:?}"
        );
    }

    // Sample 2: a room by name, the users mentioned; isOpened seals it.
    let room = cam.room("Tên phòng").await;
    let body = json!({ "panelName": "Tên phòng", "message": "Xin chào", "isOpened": true, "generalPurposes": { "users": format!("{user1}, {user2}") } });
    let (status, reply) = cam.curl("sendMessage", &format!("message={body}")).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["messages"][0]["chatRoomId"], json!(room));
    let messages = cam.messages(&room).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["sealed"], true);
    let mut mentioned: Vec<String> = messages[0]["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect();
    mentioned.sort();
    let mut want = vec![id1.clone(), id2.clone()];
    want.sort();
    assert_eq!(mentioned, want);

    // Plain JSON works as well.
    let r = cam
        .app
        .client
        .post(format!("{}/sendMessage", cam.app.address))
        .header("x-cam-apiToken", &cam.api_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(cam.messages(&room).await.len(), 2);
}

#[tokio::test]
async fn send_message_errors_are_clear_and_send_nothing() {
    let cam = Cam::start("cam-errors").await;
    let (user1, _) = cam.member("user1").await;
    cam.room("General").await;
    let before = cam.app.count_rows("messages").await;
    let cases = [
        (
            json!({ "panelName": "No such room", "message": "Hi", "generalPurposes": { "users": "" } }),
            "no chat room named",
        ),
        (
            json!({ "panelName": "messenger", "message": "Hi", "generalPurposes": { "users": format!("{user1},ghost@nowhere.example") } }),
            "ghost@nowhere.example",
        ),
        (
            json!({ "panelName": "messenger", "message": "Hi", "generalPurposes": { "users": "" } }),
            "users",
        ),
        (json!({ "panelName": "General", "message": "   " }), "text"),
        (json!({ "message": "Hi" }), "panelName"),
    ];
    for (body, says) in cases {
        let (status, reply) = cam.curl("sendMessage", &format!("message={body}")).await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert!(error_message(&reply).contains(says), "{body}: {reply}");
        assert_eq!(reply["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    }
    let (status, reply) = cam.curl("sendMessage", "message={not json").await;
    assert_eq!(status, 400);
    assert_eq!(reply["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    assert_eq!(cam.app.count_rows("messages").await, before);

    // A wrong or missing token.
    for token in [None, Some("jct_not-a-real-token"), Some("garbage")] {
        let mut request = cam
            .app
            .client
            .post(format!("{}/sendMessage", cam.app.address))
            .body("message={}");
        if let Some(token) = token {
            request = request.header("x-cam-apiToken", token);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 401, "{token:?}");
        let reply: Value = r.json().await.unwrap();
        assert_eq!(reply["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
    let r = cam.app.get("/getConferenceRooms").await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn send_messages_sends_a_batch_and_reports_each_item() {
    let cam = Cam::start("cam-batch").await;
    let (u1, _) = cam.member("user1").await;
    let (u2, _) = cam.member("user2").await;
    let room = cam.room("test").await;
    // The seed's messages.json, typos corrected, as `curl -d @messages.json`
    // sends it (newlines stripped, nothing encoded).
    let file = format!(
        r#"messages=[ {{"message":"Xin chào 1","property":{{"users":"{u1},{u2}"}}}}, {{"message":"Xin chào 2","property":{{"users":"{u1},{u2}"}}}}, {{"message":"Xin chào 3","property":{{"users":"{u1},{u2}"}}}}, {{"message":"Xin chào 4","property":{{"users":"{u1},{u2}"}}}} ]"#
    );
    let (status, reply) = cam.curl("sendMessages", &file).await;
    assert_eq!(status, 200, "{reply}");
    let results = reply["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["index"], i);
        assert_eq!(r["status"], "success");
        assert_eq!(r["messages"].as_array().unwrap().len(), 2);
    }
    let (status, reply) = cam
        .curl(
            "sendMessages",
            r#"messages=[ {"send": "test", "message": "Test 1"} ]"#,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        reply["results"][0]["messages"][0]["chatRoomId"],
        json!(room)
    );
    assert_eq!(cam.messages(&room).await[0]["text"], "Test 1");

    // One bad item does not stop the others.
    let (_, reply) = cam
        .curl(
            "sendMessages",
            &format!(r#"messages=[ {{"send": "nowhere", "message": "x"}}, {{"send": "test", "message": "Test 2"}}, {{"property": {{"users": "{u1}"}}}} ]"#),
        )
        .await;
    let results = reply["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "error");
    assert!(
        results[0]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nowhere")
    );
    assert_eq!(results[1]["status"], "success");
    assert_eq!(results[2]["status"], "error");
    assert_eq!(cam.messages(&room).await.len(), 2);
    assert_eq!(cam.app.count_rows("messages").await, 10);
}

#[tokio::test]
async fn quick_calls_and_chat_rooms() {
    let cam = Cam::start("cam-rooms").await;
    let expiry = chrono::Utc::now().timestamp_millis() + 3_600_000;
    let (status, reply) = cam
        .curl(
            "createQuickCall",
            &json!({ "expiry": expiry, "password": "password!" }).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(
        reply["quickCall"]["url"]
            .as_str()
            .unwrap()
            .contains("/calls/")
    );
    assert_eq!(reply["quickCall"]["expiry"], expiry);
    assert_eq!(reply["quickCall"]["hasPassword"], true);
    let (_, reply) = cam
        .curl(
            "createQuickCall",
            &format!("quickCall={}", json!({ "expiry": expiry })),
        )
        .await;
    assert_eq!(reply["quickCall"]["hasPassword"], false);
    // The seed's own sample expiry (1624368868714, June 2021) has passed.
    let (status, reply) = cam
        .curl(
            "createQuickCall",
            r#"{"expiry": 1624368868714, "password": "password!"}"#,
        )
        .await;
    assert_eq!(status, 400);
    assert!(error_message(&reply).contains("future"), "{reply}");

    let (_, member) = cam.member("room-member").await;
    let chat_room = json!({ "name": "Cuộc họp bí mật", "createUserId": cam.admin.user_id, "adminUserId": cam.admin.user_id, "isMessageThread": true, "isPublic": false, "memberUids": [member] });
    let (status, reply) = cam
        .curl("updateChatRoom", &format!("chatRoom={chat_room}"))
        .await;
    assert_eq!(status, 200, "{reply}");
    let room = &reply["chatRoom"];
    assert_eq!(room["name"], "Cuộc họp bí mật");
    assert_eq!(
        (
            room["isMessageThread"].as_bool(),
            room["isPublic"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert_eq!(room["adminUserId"], json!(cam.admin.user_id));
    assert_eq!(room["memberUids"].as_array().unwrap().len(), 2);
    let id = room["id"].as_str().unwrap();
    let update = json!({ "id": id, "name": "Cuộc họp công khai", "isPublic": true, "memberUids": [cam.admin.user_id] });
    let (status, reply) = cam
        .curl("updateChatRoom", &format!("chatRoom={update}"))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["chatRoom"]["id"], json!(id));
    assert_eq!(reply["chatRoom"]["name"], "Cuộc họp công khai");
    assert_eq!(reply["chatRoom"]["isPublic"], true);
    assert_eq!(reply["chatRoom"]["memberUids"], json!([cam.admin.user_id]));
    let (status, reply) = cam
        .curl(
            "updateChatRoom",
            &format!(
                "chatRoom={}",
                json!({ "id": uuid::Uuid::now_v7().to_string(), "name": "x" })
            ),
        )
        .await;
    assert_eq!(status, 404, "{reply}");
    let (status, _) = cam
        .curl(
            "updateChatRoom",
            &format!("chatRoom={}", json!({ "name": "" })),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn conference_rooms_master_and_status_by_month_or_day() {
    let cam = Cam::start("cam-conference").await;
    let mut rooms = Vec::new();
    for name in ["Room A", "Room B"] {
        let data = cam
            .app
            .ok(
                Some(&cam.admin.token),
                "mutation($n: String!) { createConferenceRoom(input: {name: $n, capacity: 8}) { id } }",
                json!({ "n": name }),
            )
            .await;
        rooms.push(
            data["createConferenceRoom"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for (room, starts, ends) in [
        (&rooms[0], "2019-08-01T09:00:00Z", "2019-08-01T10:00:00Z"),
        (&rooms[0], "2019-08-20T09:00:00Z", "2019-08-20T10:00:00Z"),
        (&rooms[1], "2019-09-02T09:00:00Z", "2019-09-02T10:00:00Z"),
    ] {
        cam.app
            .ok(
                Some(&cam.admin.token),
                "mutation($r: ID!, $s: DateTime!, $e: DateTime!) { reserveConferenceRoom(conferenceRoomId: $r, title: \"Standup\", startsAt: $s, endsAt: $e) { id } }",
                json!({ "r": room, "s": starts, "e": ends }),
            )
            .await;
    }
    let (status, reply) = cam.get("getConferenceRooms").await;
    assert_eq!(status, 200);
    assert_eq!(reply["conferenceRooms"].as_array().unwrap().len(), 2);
    assert_eq!(reply["conferenceRooms"][0]["name"], "Room A");
    let (_, master) = cam.get("getConferenceMaster").await;
    assert_eq!(master["conferenceMaster"], reply["conferenceRooms"]);

    let count = |reply: &Value, i: usize| {
        reply["conferenceRoomStatus"][i]["reservedSchedules"]
            .as_array()
            .unwrap()
            .len()
    };
    let (status, month) = cam.curl("getConferenceRoomStatus", "\"201908\"").await;
    assert_eq!(status, 200, "{month}");
    assert_eq!((count(&month, 0), count(&month, 1)), (2, 0));
    assert_eq!(
        month["conferenceRoomStatus"][0]["reservedSchedules"][0]["startsAt"],
        "2019-08-01T09:00:00Z"
    );
    let (_, day) = cam.get("getConferenceRoomStatus?yyyyMMdd=20190801").await;
    assert_eq!((count(&day, 0), count(&day, 1)), (1, 0));
    let (_, september) = cam.curl("getConferenceRoomStatus", "yyyyMMdd=201909").await;
    assert_eq!((count(&september, 0), count(&september, 1)), (0, 1));
    // As the OpenAPI document describes the body, too.
    let (status, object) = cam
        .curl("getConferenceRoomStatus", r#"{"yyyyMMdd": "201909"}"#)
        .await;
    assert_eq!(status, 200, "{object}");
    assert_eq!(object, september);
    let (_, none) = cam.get("getConferenceRoomStatus").await;
    assert_eq!(none["conferenceMaster"], master["conferenceMaster"]);
    for bad in [
        "2019",
        "201913",
        "20190231",
        "'; DROP TABLE reservations; --",
    ] {
        let (status, reply) = cam
            .get(&format!(
                "getConferenceRoomStatus?yyyyMMdd={}",
                url::form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>()
            ))
            .await;
        assert_eq!(status, 400, "{bad}: {reply}");
        assert!(error_message(&reply).contains("yyyyMM"));
    }
}
