//! One delivery attempt against a real HTTP receiver on loopback.

use std::{sync::Mutex, time::Duration};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use junction::delivery::{
    sender::{Outgoing, Sender},
    signature,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::mpsc;

/// What the receiver does with the next requests.
#[derive(Clone)]
enum Answer {
    Ok,
    Status(u16, Option<&'static str>),
    Redirect,
    Slow(Duration),
}

struct Captured {
    headers: HeaderMap,
    body: Vec<u8>,
}

struct Receiver {
    url: String,
    requests: mpsc::UnboundedReceiver<Captured>,
}

async fn receiver(answer: Answer) -> Receiver {
    let (tx, requests) = mpsc::unbounded_channel();
    let state = web::Data::new((Mutex::new(tx), answer));
    let server = HttpServer::new(move || {
        App::new().app_data(state.clone()).default_service(web::to(
            |req: HttpRequest,
             body: web::Bytes,
             state: web::Data<(Mutex<mpsc::UnboundedSender<Captured>>, Answer)>| async move {
                let mut headers = HeaderMap::new();
                for (name, value) in req.headers() {
                    headers.append(
                        HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
                        HeaderValue::from_bytes(value.as_bytes()).unwrap(),
                    );
                }
                state
                    .0
                    .lock()
                    .unwrap()
                    .send(Captured {
                        headers,
                        body: body.to_vec(),
                    })
                    .unwrap();
                match &state.1 {
                    Answer::Ok => HttpResponse::Ok().body("thanks"),
                    Answer::Status(code, retry_after) => {
                        let mut response = HttpResponse::build(
                            actix_web::http::StatusCode::from_u16(*code).unwrap(),
                        );
                        if let Some(value) = retry_after {
                            response.insert_header(("Retry-After", *value));
                        }
                        response.body("slow down")
                    }
                    Answer::Redirect => HttpResponse::Found()
                        .insert_header(("Location", "/elsewhere"))
                        .finish(),
                    Answer::Slow(delay) => {
                        tokio::time::sleep(*delay).await;
                        HttpResponse::Ok().finish()
                    }
                }
            },
        ))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    Receiver {
        url: format!("http://127.0.0.1:{port}/hook"),
        requests,
    }
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
    let mut receiver = receiver(Answer::Ok).await;
    let secret = signature::generate_secret();
    let sender = Sender::new(Duration::from_secs(5), true).unwrap();
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
    let mut receiver = receiver(Answer::Ok).await;
    let sender = Sender::new(Duration::from_secs(5), true).unwrap();
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
    let receiver = receiver(Answer::Status(429, Some("7"))).await;
    let sender = Sender::new(Duration::from_secs(5), true).unwrap();
    let attempt = sender.send(&outgoing(&receiver.url, &["s"], BODY)).await;
    assert!(!attempt.succeeded());
    assert_eq!(attempt.status, Some(429));
    assert_eq!(attempt.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(attempt.response_excerpt, "slow down");
    assert_eq!(attempt.error.as_deref(), Some("receiver answered 429"));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let mut receiver = receiver(Answer::Redirect).await;
    let sender = Sender::new(Duration::from_secs(5), true).unwrap();
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
    let receiver = receiver(Answer::Slow(Duration::from_secs(3))).await;
    let sender = Sender::new(Duration::from_millis(300), true).unwrap();
    let attempt = sender.send(&outgoing(&receiver.url, &["s"], BODY)).await;
    assert!(!attempt.succeeded());
    assert!(
        attempt.error.as_deref().unwrap().starts_with("timed out"),
        "{attempt:?}"
    );
}

#[tokio::test]
async fn private_targets_are_refused_at_send_time() {
    let mut receiver = receiver(Answer::Ok).await;
    let sender = Sender::new(Duration::from_secs(5), false).unwrap();
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
