//! One delivery attempt against a real HTTP receiver on loopback.

use std::time::Duration;

use junction::{
    domain::delivery::sender::{Outgoing, Sender},
    signature,
};

use crate::receiver::{Answer, Receiver};

/// A sender, once the process has its TLS provider (as `junction` installs
/// at start).
fn sender(timeout: Duration, allow_private: bool) -> Sender {
    junction::startup::install_crypto_provider();
    Sender::new(timeout, allow_private, 4).unwrap()
}

fn outgoing<'a>(url: &'a str, secrets: &'a [&'a str], body: &'a [u8]) -> Outgoing<'a> {
    Outgoing {
        delivery_id: "0190b5f2-0000-7000-8000-00000000abcd",
        event_type: "TODO_CREATED",
        url,
        secrets,
        body,
        timestamp: chrono::Utc::now().timestamp(),
    }
}

const BODY: &[u8] = br#"{"event":"TODO_CREATED","currentValue":{"title":"GGGG"}}"#;

#[tokio::test]
async fn a_delivery_carries_both_signatures_and_verifies_independently() {
    let mut receiver = Receiver::start(Answer::Ok).await;
    let secret = signature::generate_secret();
    let sender = sender(Duration::from_secs(5), true);
    let attempt = sender
        .send(&outgoing(&receiver.url, &[secret.as_str()], BODY))
        .await;
    assert!(attempt.succeeded(), "{attempt:?}");
    assert_eq!(attempt.status, Some(200));
    assert_eq!(attempt.response_excerpt, "thanks");

    let got = receiver.requests.recv().await.unwrap();
    assert_eq!(got.body, BODY, "the exact signed bytes are sent");
    assert_eq!(
        got.headers["webhook-id"],
        "0190b5f2-0000-7000-8000-00000000abcd"
    );
    assert_eq!(
        got.headers["x-junction-delivery"],
        "0190b5f2-0000-7000-8000-00000000abcd"
    );
    assert_eq!(got.headers["x-junction-event"], "TODO_CREATED");
    assert_eq!(got.headers["content-type"], "application/json");
    assert!(
        got.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("junction/")
    );
    standardwebhooks::Webhook::new(&secret)
        .unwrap()
        .verify(&got.body, &got.headers)
        .expect("the Standard Webhooks reference verifier accepts the delivery");
    let junction = got.headers["x-junction-signature"].to_str().unwrap();
    assert!(signature::verify_junction_signature(
        &secret, &got.body, junction
    ));
}

#[tokio::test]
async fn without_a_secret_no_signature_headers_are_sent() {
    let mut receiver = Receiver::start(Answer::Ok).await;
    let sender = sender(Duration::from_secs(5), true);
    assert!(
        sender
            .send(&outgoing(&receiver.url, &[], BODY))
            .await
            .succeeded()
    );
    let got = receiver.requests.recv().await.unwrap();
    assert!(got.headers.get("x-junction-signature").is_none());
    assert!(got.headers.get("webhook-signature").is_none());
    assert!(got.headers.get("webhook-id").is_some());
}

#[tokio::test]
async fn non_2xx_is_a_failure_and_retry_after_is_kept() {
    let receiver = Receiver::start(Answer::Status(429, Some("7"))).await;
    let sender = sender(Duration::from_secs(5), true);
    let attempt = sender.send(&outgoing(&receiver.url, &["s"], BODY)).await;
    assert!(!attempt.succeeded());
    assert_eq!(attempt.status, Some(429));
    assert_eq!(attempt.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(attempt.response_excerpt, "slow down");
    assert_eq!(attempt.error.as_deref(), Some("receiver answered 429"));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let mut receiver = Receiver::start(Answer::Redirect).await;
    let sender = sender(Duration::from_secs(5), true);
    let attempt = sender.send(&outgoing(&receiver.url, &["s"], BODY)).await;
    assert_eq!(attempt.status, Some(302));
    assert!(!attempt.succeeded());
    receiver.requests.recv().await.unwrap();
    assert!(
        receiver.requests.try_recv().is_err(),
        "only the one request"
    );
}

#[tokio::test]
async fn slow_receivers_time_out() {
    let receiver = Receiver::start(Answer::Slow(Duration::from_secs(3))).await;
    let sender = sender(Duration::from_millis(300), true);
    let attempt = sender.send(&outgoing(&receiver.url, &["s"], BODY)).await;
    assert!(!attempt.succeeded());
    assert!(
        attempt.error.as_deref().unwrap().starts_with("timed out"),
        "{attempt:?}"
    );
}

#[tokio::test]
async fn private_targets_are_refused_at_send_time() {
    let mut receiver = Receiver::start(Answer::Ok).await;
    let sender = sender(Duration::from_secs(5), false);
    let by_ip = sender.send(&outgoing(&receiver.url, &["s"], BODY)).await;
    assert!(
        by_ip
            .error
            .as_deref()
            .unwrap()
            .contains("not a public address"),
        "{by_ip:?}"
    );
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    let attempt = sender.send(&outgoing(&by_name, &["s"], BODY)).await;
    assert!(
        attempt
            .error
            .as_deref()
            .unwrap()
            .contains("not a public address"),
        "{attempt:?}"
    );
    assert!(
        receiver.requests.try_recv().is_err(),
        "nothing reached the receiver"
    );
}
