//! Outbound deliveries end to end: a change in the workspace reaches a real
//! receiver, signed, through the queue and the workers; failures retry,
//! health follows, and operators can look and redeliver.

use std::time::Duration;

use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{
    helpers::*,
    receiver::{Answer, Captured, Receiver},
    ws::subscribe,
};

/// Fast retries and sweeps, loopback receivers allowed.
const FAST: &[&str] = &[
    "--allow-private-targets",
    "--retry-schedule",
    "0s,300ms,300ms",
    "--unhealthy-after-failures",
    "2",
    "--sweep-interval-ms",
    "200",
    "--sweep-grace-seconds",
    "1",
];

const WAIT: Duration = Duration::from_secs(15);

struct Setup {
    app: TestApp,
    owner: Session,
    project: String,
    receiver: Receiver,
}

async fn setup(extra: &[&str], answer: Answer) -> Setup {
    // `extra` overrides FAST's value for the same flag.
    let mut flags: Vec<&str> = Vec::new();
    let mut fast = FAST.iter().peekable();
    while let Some(flag) = fast.next() {
        let takes_value = fast.peek().is_some_and(|v| !v.starts_with("--"));
        let value = if takes_value { fast.next() } else { None };
        if !extra.contains(flag) {
            flags.push(flag);
            flags.extend(value);
        }
    }
    flags.extend_from_slice(extra);
    let app = spawn_app_with(&flags).await;
    let owner = app.register("owner").await;
    let project = app
        .ok(
            Some(&owner.token),
            "mutation { createProject(input: {name: \"Deliveries\"}) { id } }",
            json!({}),
        )
        .await["createProject"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Setup {
        app,
        owner,
        project,
        receiver: Receiver::start(answer).await,
    }
}

impl Setup {
    async fn webhook(&self, input: Value) -> Value {
        let mut input = input;
        input["url"] = json!(self.receiver.url);
        self.app
            .ok(
                Some(&self.owner.token),
                "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id name secret status enabled } }",
                json!({ "i": input }),
            )
            .await["createWebhook"]
            .clone()
    }

    async fn create_list(&self, title: &str) -> String {
        self.app
            .ok(
                Some(&self.owner.token),
                "mutation($p: ID!, $t: String!) { createTodoList(projectId: $p, title: $t) { id } }",
                json!({ "p": self.project, "t": title }),
            )
            .await["createTodoList"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn create_todo(&self, list: &str, title: &str) -> String {
        self.app
            .ok(
                Some(&self.owner.token),
                "mutation($l: ID!, $t: String!) { createTodo(input: {todoListId: $l, title: $t}) { id } }",
                json!({ "l": list, "t": title }),
            )
            .await["createTodo"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn delivery(&self, id: &str) -> Value {
        self.app
            .ok(
                Some(&self.owner.token),
                "query($id: ID!) { delivery(id: $id) { id status attempts lastStatusCode lastError eventType } }",
                json!({ "id": id }),
            )
            .await["delivery"]
            .clone()
    }

    /// Polls a delivery until `done` says so.
    async fn delivery_until(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let delivery = self.delivery(id).await;
            if done(&delivery) {
                return delivery;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "delivery never got there: {delivery}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The ids of a webhook's deliveries of one status, sorted.
    async fn listed(&self, hook: &Value, status: &str) -> Vec<String> {
        let listed = self
            .app
            .ok(
                Some(&self.owner.token),
                "query($w: ID!, $s: DeliveryStatus) { deliveries(webhookId: $w, status: $s) { totalCount edges { node { id status } } } }",
                json!({ "w": hook["id"], "s": status }),
            )
            .await["deliveries"]
            .clone();
        let ids: Vec<String> = listed["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(e["node"]["status"], status);
                e["node"]["id"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(listed["totalCount"], ids.len());
        sorted(&ids)
    }

    async fn attempts(&self, delivery: &str) -> Vec<Value> {
        self.app
            .ok(
                Some(&self.owner.token),
                "query($id: ID!) { deliveryAttempts(deliveryId: $id) { attempt statusCode latencyMs responseExcerpt error } }",
                json!({ "id": delivery }),
            )
            .await["deliveryAttempts"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn webhook_state(&self, id: &str) -> Value {
        self.app
            .ok(
                Some(&self.owner.token),
                "query($id: ID!) { webhook(id: $id) { status enabled consecutiveFailures failingSince } }",
                json!({ "id": id }),
            )
            .await["webhook"]
            .clone()
    }

    async fn events_of(&self, event_type: &str) -> Vec<Value> {
        let data = self
            .app
            .ok(
                Some(&self.owner.token),
                "query($t: [String!]) { events(types: $t) { edges { node { type currentValue previousValue } } } }",
                json!({ "t": [event_type] }),
            )
            .await;
        data["events"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .collect()
    }
}

fn junction_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// Checks a request's Standard Webhooks headers with the `standardwebhooks`
/// crate, an implementation independent of ours.
pub(crate) fn verifies_with(request: &Captured, secret: &str) -> bool {
    let wh = standardwebhooks::Webhook::new(secret).unwrap();
    wh.verify(&request.body, &request.headers).is_ok()
}

#[tokio::test]
async fn a_change_reaches_the_receiver_signed_in_blues_payload_shape() {
    let mut s = setup(&[], Answer::Ok).await;
    let hook = s
        .webhook(json!({ "name": "Testing webhook", "events": ["TODO_CREATED"] }))
        .await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    let list = s.create_list("ETEST").await;
    let todo = s.create_todo(&list, "GGGG").await;

    let request = s.receiver.next(WAIT).await;
    assert_eq!(request.header("x-junction-event"), "TODO_CREATED");
    assert_eq!(request.header("content-type"), "application/json");
    assert!(request.header("user-agent").starts_with("junction/"));
    let delivery_id = request.header("x-junction-delivery").to_owned();
    assert_eq!(request.header("webhook-id"), delivery_id);
    assert_eq!(
        request.header("x-junction-signature"),
        junction_signature(&secret, &request.body),
        "the signature is an HMAC-SHA256 of the exact body, keyed by the secret"
    );
    assert!(verifies_with(&request, &secret));
    assert!(!verifies_with(
        &request,
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    ));

    let payload = request.json();
    assert_eq!(payload["event"], "TODO_CREATED");
    assert_eq!(payload["webhook"]["id"], hook["id"]);
    assert_eq!(payload["webhook"]["name"], "Testing webhook");
    assert_eq!(payload["webhook"]["secret"], "", "never the secret itself");
    assert_eq!(
        payload["webhook"]["metadata"]["events"],
        json!(["TODO_CREATED"])
    );
    assert_eq!(payload["currentValue"]["id"], todo.as_str());
    assert_eq!(payload["currentValue"]["title"], "GGGG");
    assert_eq!(payload["currentValue"]["todoList"]["title"], "ETEST");
    assert_eq!(
        payload["currentValue"]["todoList"]["project"]["id"],
        s.project.as_str()
    );
    assert_eq!(payload["previousValue"], Value::Null);

    let delivery = s
        .delivery_until(&delivery_id, |d| d["status"] == "SUCCEEDED")
        .await;
    assert_eq!(delivery["attempts"], 1);
    assert_eq!(delivery["lastStatusCode"], 200);
    let attempts = s.attempts(&delivery_id).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["attempt"], 1);
    assert_eq!(attempts[0]["statusCode"], 200);
    assert_eq!(attempts[0]["responseExcerpt"], "thanks");
    assert_eq!(attempts[0]["error"], Value::Null);

    // The filter held: the list's creation was not sent.
    assert!(
        s.receiver
            .drain(Duration::from_millis(500))
            .await
            .is_empty()
    );
}

/// Webhooks deleted while their deliveries' requests are in flight take
/// those deliveries with them; the attempts of the others, finishing at
/// the same moment and recorded with theirs, are still logged, and the
/// others are not sent again.
#[tokio::test]
async fn deleting_webhooks_mid_attempt_loses_no_other_deliverys_outcome() {
    // Short leases: a delivery whose outcome was not recorded would be
    // sent again within the test.
    let mut s = setup(
        &["--delivery-timeout-seconds", "2"],
        Answer::Slow(Duration::from_millis(1200)),
    )
    .await;
    let mut kept = Vec::new();
    let mut deleted = Vec::new();
    for n in 0..8 {
        let hook = s
            .webhook(json!({ "name": format!("hook {n}"), "events": ["TODO_CREATED"] }))
            .await;
        if n % 2 == 0 { &mut kept } else { &mut deleted }.push(hook);
    }
    let list = s.create_list("Racing").await;
    s.create_todo(&list, "In flight").await;

    // Every request is held at the receiver; delete half the webhooks
    // meanwhile.
    let mut requests = Vec::new();
    for _ in 0..8 {
        requests.push(s.receiver.next(WAIT).await);
    }
    for hook in &deleted {
        s.app
            .ok(
                Some(&s.owner.token),
                "mutation($id: ID!) { deleteWebhook(id: $id) { id } }",
                json!({ "id": hook["id"] }),
            )
            .await;
    }

    let mut kept_deliveries = Vec::new();
    for hook in &kept {
        let deadline = tokio::time::Instant::now() + WAIT;
        let succeeded = loop {
            let succeeded = s.listed(hook, "SUCCEEDED").await;
            if !succeeded.is_empty() || tokio::time::Instant::now() > deadline {
                break succeeded;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(succeeded.len(), 1, "{} delivered", hook["name"]);
        let delivery = &succeeded[0];
        assert_eq!(s.delivery(delivery).await["attempts"], 1);
        let attempts = s.attempts(delivery).await;
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0]["statusCode"], 200);
        kept_deliveries.push(delivery.clone());
    }
    // Past the lease (2 s + its margin) and a sweep: nothing was sent again.
    requests.extend(s.receiver.drain(Duration::from_secs(9)).await);
    for delivery in &kept_deliveries {
        let sent = requests
            .iter()
            .filter(|r| r.header("webhook-id") == delivery)
            .count();
        assert_eq!(sent, 1, "delivery {delivery} was sent {sent} times");
    }
    assert_eq!(requests.len(), 8);
    assert_eq!(
        s.app
            .count_where("deliveries", "status <> 'SUCCEEDED'")
            .await,
        0,
        "the deleted webhooks' deliveries went with them"
    );
}

#[tokio::test]
async fn failures_retry_on_the_schedule_then_fail_and_health_follows() {
    let mut s = setup(&[], Answer::Status(500, None)).await;
    let hook = s
        .webhook(json!({ "name": "Flaky", "events": ["TODO_LIST_CREATED"] }))
        .await;
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    s.create_list("L").await;

    // The schedule is 0s, 300ms, 300ms: three attempts, ~300 ms apart.
    let first = s.receiver.next(WAIT).await;
    let second = s.receiver.next(WAIT).await;
    let third = s.receiver.next(WAIT).await;
    let id = first.header("webhook-id").to_owned();
    assert_eq!(second.header("webhook-id"), id, "stable across retries");
    assert_eq!(third.header("webhook-id"), id);
    for gap in [second.at - first.at, third.at - second.at] {
        assert!(gap >= Duration::from_millis(200), "retried after {gap:?}");
    }
    let delivery = s.delivery_until(&id, |d| d["status"] == "FAILED").await;
    assert_eq!(delivery["attempts"], 3);
    assert_eq!(delivery["lastStatusCode"], 500);
    assert_eq!(delivery["lastError"], "receiver answered 500");
    let attempts = s.attempts(&id).await;
    assert_eq!(
        attempts
            .iter()
            .map(|a| a["attempt"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(attempts.iter().all(|a| a["responseExcerpt"] == "slow down"));
    assert!(
        s.receiver
            .drain(Duration::from_millis(800))
            .await
            .is_empty(),
        "no fourth try"
    );

    // Two failures in a row made it UNHEALTHY, said as an event and a notice.
    let state = s.webhook_state(&hook_id).await;
    assert_eq!(state["status"], "UNHEALTHY");
    assert_eq!(state["enabled"], true);
    assert_eq!(state["consecutiveFailures"], 3);
    let changes = s.events_of("WEBHOOK_STATUS_CHANGED").await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["previousValue"]["status"], "HEALTHY");
    assert_eq!(changes[0]["currentValue"]["status"], "UNHEALTHY");
    let posted = notices(&s).await;
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert!(posted[0].contains("\u{201c}Flaky\u{201d}") && posted[0].contains("UNHEALTHY"));

    // The receiver recovers; redelivering succeeds with the same id and
    // turns the webhook HEALTHY again.
    s.receiver.answer(Answer::Ok);
    let again = s
        .app
        .ok(
            Some(&s.owner.token),
            "mutation($id: ID!) { redeliver(deliveryId: $id) { id status attempts } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(again["redeliver"]["status"], "PENDING");
    assert_eq!(again["redeliver"]["attempts"], 0);
    let redelivered = s.receiver.next(WAIT).await;
    assert_eq!(redelivered.header("webhook-id"), id);
    s.delivery_until(&id, |d| d["status"] == "SUCCEEDED").await;
    let state = s.webhook_state(&hook_id).await;
    assert_eq!(state["status"], "HEALTHY");
    assert_eq!(state["consecutiveFailures"], 0);
    assert_eq!(state["failingSince"], Value::Null);
    let changes = s.events_of("WEBHOOK_STATUS_CHANGED").await;
    assert_eq!(changes.len(), 2);
    assert!(
        changes
            .iter()
            .any(|c| c["currentValue"]["status"] == "HEALTHY")
    );
    assert_eq!(notices(&s).await.len(), 2);
}

/// The texts of the notices Junction posted to the owner.
async fn notices(s: &Setup) -> Vec<String> {
    let projects = s
        .app
        .ok(
            Some(&s.owner.token),
            "{ projects(kind: DIRECT) { edges { node { name messages { edges { node { text authorName } } } } } } }",
            json!({}),
        )
        .await;
    let Some(conversation) = projects["projects"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["name"] == "Junction notices")
    else {
        return Vec::new();
    };
    conversation["node"]["messages"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|m| assert_eq!(m["node"]["authorName"], "Junction"))
        .map(|m| m["node"]["text"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn retry_after_is_honoured_on_429() {
    let mut s = setup(&[], Answer::Ok).await;
    s.receiver.then([Answer::Status(429, Some("2"))]);
    s.webhook(json!({ "name": "Busy", "events": ["TODO_LIST_CREATED"] }))
        .await;
    s.create_list("L").await;
    let first = s.receiver.next(WAIT).await;
    let second = s.receiver.next(WAIT).await;
    let gap = second.at - first.at;
    assert!(
        gap >= Duration::from_millis(1900),
        "the schedule said 300 ms, the receiver asked for 2 s; it came after {gap:?}"
    );
    let id = first.header("webhook-id").to_owned();
    s.delivery_until(&id, |d| d["status"] == "SUCCEEDED").await;
}

#[tokio::test]
async fn a_success_ends_a_run_of_failures_too_short_to_turn_unhealthy() {
    let mut s = setup(&[], Answer::Ok).await;
    s.receiver.then([Answer::Status(500, None)]);
    let hook = s
        .webhook(json!({ "name": "Once", "events": ["TODO_LIST_CREATED"] }))
        .await;
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    s.create_list("L").await;
    let id = s.receiver.next(WAIT).await.header("webhook-id").to_owned();
    s.receiver.next(WAIT).await;
    s.delivery_until(&id, |d| d["status"] == "SUCCEEDED").await;
    // One failure (two make it UNHEALTHY) started a run; the retry's
    // success ended it, with no status change to announce.
    let state = s.webhook_state(&hook_id).await;
    assert_eq!(state["status"], "HEALTHY");
    assert_eq!(state["consecutiveFailures"], 0);
    assert_eq!(state["failingSince"], Value::Null);
    assert!(s.events_of("WEBHOOK_STATUS_CHANGED").await.is_empty());
}

#[tokio::test]
async fn gone_disables_the_webhook() {
    let mut s = setup(&[], Answer::Status(410, None)).await;
    let hook = s
        .webhook(json!({ "name": "Retired", "events": ["TODO_LIST_CREATED"] }))
        .await;
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    s.create_list("L").await;
    let first = s.receiver.next(WAIT).await;
    let id = first.header("webhook-id").to_owned();
    let delivery = s.delivery_until(&id, |d| d["status"] == "FAILED").await;
    assert_eq!(delivery["attempts"], 1, "410 is not retried");
    let state = s.webhook_state(&hook_id).await;
    assert_eq!(state["enabled"], false);
    let changes = s.events_of("WEBHOOK_STATUS_CHANGED").await;
    assert_eq!(changes[0]["currentValue"]["enabled"], false);
    assert!(notices(&s).await[0].contains("410 Gone"));

    // Disabled: new changes owe it nothing, and redelivery is refused.
    s.create_list("M").await;
    assert!(
        s.receiver
            .drain(Duration::from_millis(800))
            .await
            .is_empty()
    );
    let code = s
        .app
        .error_code(
            Some(&s.owner.token),
            "mutation($id: ID!) { redeliver(deliveryId: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

#[tokio::test]
async fn failing_longer_than_the_window_disables_the_webhook() {
    let mut s = setup(&["--disable-after-seconds", "0"], Answer::Status(503, None)).await;
    let hook = s
        .webhook(json!({ "name": "Dead", "events": ["TODO_LIST_CREATED"] }))
        .await;
    s.create_list("L").await;
    s.receiver.next(WAIT).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while s.webhook_state(hook["id"].as_str().unwrap()).await["enabled"] == true {
        assert!(tokio::time::Instant::now() < deadline, "never disabled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(notices(&s).await.iter().any(|n| n.contains("was disabled")));
}

#[tokio::test]
async fn a_test_ping_goes_to_one_webhook_whatever_its_filters() {
    let mut s = setup(&[], Answer::Ok).await;
    let hook = s
        .webhook(json!({ "name": "Filtered", "events": ["COMMENT_CREATED"] }))
        .await;
    let tested = s
        .app
        .ok(
            Some(&s.owner.token),
            "mutation($id: ID!) { testWebhook(id: $id) { id eventType status } }",
            json!({ "id": hook["id"] }),
        )
        .await["testWebhook"]
        .clone();
    assert_eq!(tested["eventType"], "WEBHOOK_PING");
    let request = s.receiver.next(WAIT).await;
    assert_eq!(request.header("webhook-id"), tested["id"].as_str().unwrap());
    assert_eq!(request.json()["event"], "WEBHOOK_PING");
    assert!(verifies_with(&request, hook["secret"].as_str().unwrap()));
}

#[tokio::test]
async fn a_rotated_secret_keeps_signing_during_its_grace_period() {
    let mut s = setup(&[], Answer::Ok).await;
    let hook = s
        .webhook(json!({ "name": "Rotating", "events": ["TODO_LIST_CREATED"] }))
        .await;
    let old = hook["secret"].as_str().unwrap().to_owned();
    let rotated = s
        .app
        .ok(
            Some(&s.owner.token),
            "mutation($id: ID!) { rotateWebhookSecret(id: $id, graceSeconds: 3600) { secret previousSecretExpiresAt } }",
            json!({ "id": hook["id"] }),
        )
        .await["rotateWebhookSecret"]
        .clone();
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != old);
    assert!(rotated["previousSecretExpiresAt"].is_string());

    s.create_list("L").await;
    let request = s.receiver.next(WAIT).await;
    assert!(
        verifies_with(&request, &new),
        "receivers on the new secret accept"
    );
    assert!(
        verifies_with(&request, &old),
        "receivers still on the old one accept"
    );
    assert_eq!(
        request.header("x-junction-signature"),
        format!(
            "{}, {}",
            junction_signature(&new, &request.body),
            junction_signature(&old, &request.body)
        )
    );

    // Without grace the old secret stops at once.
    s.app
        .ok(
            Some(&s.owner.token),
            "mutation($id: ID!) { rotateWebhookSecret(id: $id, secret: \"plain-secret\", graceSeconds: 0) { id } }",
            json!({ "id": hook["id"] }),
        )
        .await;
    s.create_list("M").await;
    let request = s.receiver.next(WAIT).await;
    assert_eq!(
        request.header("x-junction-signature"),
        junction_signature("plain-secret", &request.body)
    );
    assert!(!verifies_with(&request, &new));

    // Changed by another process on the same database, the secret signs
    // the next event's delivery: every process keeps its webhooks in
    // memory, and any write to them must reach the next event.
    let other = spawn_on(
        s.app.database_url.clone(),
        Some(s.app.jwt_secret.clone()),
        tempfile::tempdir().unwrap(),
        &unique_redis_prefix(),
        &["--allow-private-targets"],
    )
    .await;
    other
        .ok(
            Some(&s.owner.token),
            "mutation($id: ID!) { rotateWebhookSecret(id: $id, secret: \"written-elsewhere\", graceSeconds: 0) { id } }",
            json!({ "id": hook["id"] }),
        )
        .await;
    s.create_list("N").await;
    let request = s.receiver.next(WAIT).await;
    assert_eq!(
        request.header("x-junction-signature"),
        junction_signature("written-elsewhere", &request.body)
    );
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

#[tokio::test]
async fn failed_deliveries_since_a_time_are_sent_again() {
    let mut s = setup(&["--retry-schedule", "0s"], Answer::Status(500, None)).await;
    let hook = s
        .webhook(json!({ "name": "Down", "events": ["TODO_LIST_CREATED"] }))
        .await;
    let since = chrono::Utc::now().to_rfc3339();
    for title in ["a", "b", "c"] {
        s.create_list(title).await;
    }
    let mut ids: Vec<String> = Vec::new();
    for _ in 0..3 {
        ids.push(s.receiver.next(WAIT).await.header("webhook-id").to_owned());
    }
    for id in &ids {
        s.delivery_until(id, |d| d["status"] == "FAILED").await;
    }
    assert_eq!(s.listed(&hook, "FAILED").await, sorted(&ids));
    assert!(s.listed(&hook, "PENDING").await.is_empty());
    s.receiver.answer(Answer::Ok);
    let count = s
        .app
        .ok(
            Some(&s.owner.token),
            "mutation($w: ID!, $s: DateTime!) { redeliverFailed(webhookId: $w, since: $s) }",
            json!({ "w": hook["id"], "s": since }),
        )
        .await["redeliverFailed"]
        .clone();
    assert_eq!(count, 3);
    let mut again: Vec<String> = Vec::new();
    for _ in 0..3 {
        again.push(s.receiver.next(WAIT).await.header("webhook-id").to_owned());
    }
    again.sort();
    ids.sort();
    assert_eq!(again, ids, "the same deliveries, the same webhook-ids");
    for id in &ids {
        s.delivery_until(id, |d| d["status"] == "SUCCEEDED").await;
    }
    assert_eq!(s.listed(&hook, "SUCCEEDED").await, ids);
    assert!(s.listed(&hook, "FAILED").await.is_empty());
}

#[tokio::test]
async fn delivery_updates_stream_over_a_subscription() {
    let mut s = setup(&[], Answer::Ok).await;
    let hook = s
        .webhook(json!({ "name": "Watched", "events": ["TODO_LIST_CREATED"] }))
        .await;
    let mut stream = subscribe(
        &s.app,
        &s.owner.token,
        "subscription($w: ID!) { deliveryUpdated(webhookId: $w) { id status attempts lastStatusCode } }",
        json!({ "w": hook["id"] }),
    )
    .await;
    // The subscription goes live shortly after the client has sent it;
    // keep making changes until an update comes through.
    let (address, token, project) = (
        s.app.address.clone(),
        s.owner.token.clone(),
        s.project.clone(),
    );
    let making = tokio::spawn(async move {
        let client = client();
        for i in 0..100 {
            let body = json!({
                "query": "mutation($p: ID!, $t: String!) { createTodoList(projectId: $p, title: $t) { id } }",
                "variables": { "p": project, "t": format!("list {i}") }
            });
            let _ = client
                .post(format!("{address}/graphql"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let item = tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("an update arrives")
        .unwrap()
        .unwrap();
    making.abort();
    let update = &item["data"]["deliveryUpdated"];
    assert_eq!(update["status"], "SUCCEEDED", "{item}");
    assert_eq!(update["attempts"], 1);
    assert_eq!(update["lastStatusCode"], 200);
    let delivered: Vec<String> = s
        .receiver
        .drain(Duration::from_millis(300))
        .await
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert!(
        delivered.iter().any(|id| update["id"] == id.as_str()),
        "the update is about a delivery the receiver got"
    );
}

#[tokio::test]
async fn only_admins_see_and_operate_deliveries() {
    let mut s = setup(&[], Answer::Ok).await;
    let hook = s.webhook(json!({ "name": "Admins only" })).await;
    s.create_list("L").await;
    let id = s.receiver.next(WAIT).await.header("webhook-id").to_owned();
    let (member, _) = s.app.add_member(&s.owner, "member", "MEMBER").await;
    for (query, vars) in [
        (
            "query($id: ID!) { delivery(id: $id) { id } }",
            json!({ "id": id }),
        ),
        (
            "query($id: ID!) { deliveryAttempts(deliveryId: $id) { id } }",
            json!({ "id": id }),
        ),
        (
            "mutation($id: ID!) { redeliver(deliveryId: $id) { id } }",
            json!({ "id": id }),
        ),
        (
            "mutation($id: ID!) { testWebhook(id: $id) { id } }",
            json!({ "id": hook["id"] }),
        ),
    ] {
        assert_eq!(
            s.app.error_code(Some(&member.token), query, vars).await,
            "FORBIDDEN"
        );
    }
    let stranger = s.app.register("stranger").await;
    let code = s
        .app
        .error_code(
            Some(&stranger.token),
            "query($id: ID!) { delivery(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        code, "NOT_FOUND",
        "another organization's delivery does not exist"
    );
}

#[tokio::test]
async fn deliveries_whose_job_was_lost_are_found_by_the_sweeper() {
    // A server without workers commits deliveries and queues their jobs in
    // its own memory, then goes away: the jobs are lost, the rows are not.
    let receiver = Receiver::start(Answer::Ok).await;
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(&dir).await;
    let secret = format!("test-secret-{}", uuid::Uuid::now_v7());
    let mut flags = FAST.to_vec();
    flags.extend(["--in-process-workers", "false"]);
    let first = spawn_on(
        database_url.clone(),
        Some(secret.clone()),
        tempfile::tempdir().unwrap(),
        &unique_redis_prefix(),
        &flags,
    )
    .await;
    let owner = first.register("owner").await;
    first
        .ok(
            Some(&owner.token),
            "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }",
            json!({ "i": { "name": "Later", "url": receiver.url, "events": ["PROJECT_CREATED"] } }),
        )
        .await;
    for name in ["a", "b", "c"] {
        first
            .ok(
                Some(&owner.token),
                "mutation($n: String!) { createProject(input: {name: $n}) { id } }",
                json!({ "n": name }),
            )
            .await;
    }
    let mut receiver = receiver;
    assert!(
        receiver.drain(Duration::from_millis(500)).await.is_empty(),
        "no workers yet"
    );

    // A second server with workers, on the same database and a queue that
    // never saw those jobs, delivers them.
    let _second = spawn_on(
        database_url,
        Some(secret),
        dir,
        &unique_redis_prefix(),
        FAST,
    )
    .await;
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(receiver.next(WAIT).await.json()["currentValue"]["name"].clone());
    }
    got.sort_by_key(|v| v.to_string());
    assert_eq!(got, vec![json!("a"), json!("b"), json!("c")]);
}

#[tokio::test]
async fn settled_deliveries_are_deleted_after_their_retention() {
    // The first delivery fails and waits an hour for its retry: pending
    // deliveries are never pruned, however old.
    let mut s = setup(
        &[
            "--retry-schedule",
            "0s,1h",
            "--delivery-retention-seconds",
            "1",
        ],
        Answer::Status(500, None),
    )
    .await;
    s.webhook(json!({ "name": "Kept a second", "events": ["TODO_LIST_CREATED"] }))
        .await;
    s.create_list("waits").await;
    let waiting = s.receiver.next(WAIT).await.header("webhook-id").to_owned();
    s.delivery_until(&waiting, |d| d["status"] == "PENDING" && d["attempts"] == 1)
        .await;
    s.receiver.answer(Answer::Ok);
    s.create_list("settles").await;
    let settled = s.receiver.next(WAIT).await.header("webhook-id").to_owned();
    s.delivery_until(&settled, |d| d["status"] == "SUCCEEDED")
        .await;
    let attempts = |id: &str| format!("delivery_id = '{id}'");
    assert_eq!(
        s.app
            .count_where("delivery_attempts", &attempts(&settled))
            .await,
        1
    );

    // A second later the sweeper (every 200 ms here) deletes it and its
    // attempt log; its event stays.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, body) = s
            .app
            .graphql(
                Some(&s.owner.token),
                "query($id: ID!) { delivery(id: $id) { id } }",
                json!({ "id": settled }),
            )
            .await;
        if code_of(&body).as_deref() == Some("NOT_FOUND") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the settled delivery was never deleted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        s.app
            .count_where("delivery_attempts", &attempts(&settled))
            .await,
        0
    );
    assert_eq!(
        s.app
            .count_where("events", "type = 'TODO_LIST_CREATED'")
            .await,
        2
    );
    let metrics = s.app.metrics().await;
    assert!(
        metrics.contains("junction_deliveries_pruned_total 1\n"),
        "{metrics}"
    );
    let kept = s.delivery(&waiting).await;
    assert_eq!(kept["status"], "PENDING", "{kept}");
    assert_eq!(
        s.app
            .count_where("delivery_attempts", &attempts(&waiting))
            .await,
        1
    );
}

/// A worker recording failed attempts writes their webhooks' health; a
/// delete takes its webhook's row, then its deliveries. On PostgreSQL the
/// two once took those rows in opposite orders and deadlocked: after a
/// second the database undid one of them, and when that was the delete the
/// caller got UNAVAILABLE. Every delete here must simply succeed, while
/// every webhook fails and retries all the time.
#[tokio::test]
async fn webhooks_deleted_while_their_failures_are_recorded_are_deleted() {
    let schedule = format!("0s{}", ",10ms".repeat(100));
    let mut s = setup(
        // Transactions side by side, as in production.
        &[
            "--retry-schedule",
            &schedule,
            "--database-max-connections",
            "16",
        ],
        Answer::Status(500, None),
    )
    .await;
    let mut hooks = Vec::new();
    for n in 0..24 {
        hooks.push(s.webhook(json!({ "name": format!("failing {n}") })).await);
    }
    let list = s.create_list("Failing").await;
    for n in 0..4 {
        s.create_todo(&list, &format!("todo {n}")).await;
    }
    // Attempts are failing and being recorded before the deletes start.
    for _ in 0..200 {
        s.receiver.next(WAIT).await;
    }
    let mut refused = Vec::new();
    for hook in &hooks {
        let (_, body) = s
            .app
            .graphql(
                Some(&s.owner.token),
                "mutation($id: ID!) { deleteWebhook(id: $id) { id } }",
                json!({ "id": hook["id"] }),
            )
            .await;
        if body.get("errors").is_some() {
            refused.push(body);
        }
    }
    assert!(refused.is_empty(), "{} refused: {refused:?}", refused.len());
    assert_eq!(s.app.count_rows("webhooks").await, 0);
    assert_eq!(s.app.count_rows("deliveries").await, 0);
}
