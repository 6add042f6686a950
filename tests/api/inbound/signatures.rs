//! Each signing scheme accepts the service's real signature and refuses a
//! wrong, missing or stale one with 401, creating nothing. Signatures are
//! computed here from the services' documentation, not with Junction's code.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{fixtures, integrate, workspace};
use crate::helpers::{Session, TestApp, spawn_app};

const SECRET: &str = "It's a Secret to Everybody";

fn hmac(key: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

struct Case {
    service: &'static str,
    fixture: &'static str,
    secret: &'static str,
    good: Vec<(&'static str, String)>,
    bad: Vec<Vec<(&'static str, String)>>,
}

async fn check(app: &TestApp, admin: &Session, project: &str, case: Case) {
    let (_, path) = integrate(
        app,
        admin,
        project,
        json!({ "service": case.service, "action": "chat", "secret": case.secret }),
    )
    .await;
    let fixture = fixtures::load(case.fixture);
    let before = app.count_rows("messages").await;
    for bad in &case.bad {
        let response = fixture.send_with(app, &path, bad).await;
        assert_eq!(response.status(), 401, "{}: {bad:?}", case.service);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "RESPONSE_ERROR_UNAUTHORIZED");
        assert!(
            body["message"].as_str().unwrap().contains("signature"),
            "{body}"
        );
    }
    assert_eq!(app.count_rows("messages").await, before, "{}", case.service);
    let response = fixture.send_with(app, &path, &case.good).await;
    assert_eq!(
        response.status(),
        201,
        "{}: {}",
        case.service,
        response.text().await.unwrap()
    );
    assert_eq!(app.count_rows("messages").await, before + 1);
}

#[tokio::test]
async fn each_services_signature_scheme_accepts_and_rejects() {
    let app = spawn_app().await;
    let (admin, project) = workspace(&app, "inbound-signatures").await;
    let body = |name: &str| fixtures::load(name).body;

    let b = body("github/push");
    check(
        &app,
        &admin,
        &project,
        Case {
            service: "github",
            fixture: "github/push",
            secret: SECRET,
            good: vec![(
                "X-Hub-Signature-256",
                format!("sha256={}", hex(&hmac(SECRET, &[&b]))),
            )],
            bad: vec![
                vec![],
                vec![(
                    "X-Hub-Signature-256",
                    format!("sha256={}", hex(&hmac("wrong", &[&b]))),
                )],
                vec![("X-Hub-Signature-256", "sha256=zz".into())],
            ],
        },
    )
    .await;

    for (service, fixture) in [
        ("bitbucket", "bitbucket/repo_push"),
        ("jira", "jira/issue_created"),
    ] {
        let b = body(fixture);
        check(
            &app,
            &admin,
            &project,
            Case {
                service,
                fixture,
                secret: SECRET,
                good: vec![(
                    "X-Hub-Signature",
                    format!("sha256={}", hex(&hmac(SECRET, &[&b]))),
                )],
                bad: vec![
                    vec![],
                    vec![(
                        "X-Hub-Signature",
                        format!("sha256={}", hex(&hmac(SECRET, &[b"{}"]))),
                    )],
                ],
            },
        )
        .await;
    }

    let b = body("stripe/charge_succeeded");
    let t = now().to_string();
    let stale = (now() - 600).to_string();
    let sign = |t: &str, key: &str| hex(&hmac(key, &[t.as_bytes(), b".", &b]));
    check(
        &app,
        &admin,
        &project,
        Case {
            service: "stripe",
            fixture: "stripe/charge_succeeded",
            secret: "whsec_stripe_test",
            // During a secret roll Stripe sends a v1 per secret.
            good: vec![(
                "Stripe-Signature",
                format!(
                    "t={t},v1={},v1={}",
                    sign(&t, "whsec_old"),
                    sign(&t, "whsec_stripe_test")
                ),
            )],
            bad: vec![
                vec![(
                    "Stripe-Signature",
                    format!("t={t},v1={}", sign(&t, "whsec_old")),
                )],
                vec![(
                    "Stripe-Signature",
                    format!("t={stale},v1={}", sign(&stale, "whsec_stripe_test")),
                )],
                vec![(
                    "Stripe-Signature",
                    format!("v1={}", sign(&t, "whsec_stripe_test")),
                )],
            ],
        },
    )
    .await;

    let b = body("pagerduty/incident_triggered");
    check(
        &app,
        &admin,
        &project,
        Case {
            service: "pagerduty",
            fixture: "pagerduty/incident_triggered",
            secret: SECRET,
            good: vec![(
                "X-PagerDuty-Signature",
                format!(
                    "v1={},v1={}",
                    hex(&hmac("old", &[&b])),
                    hex(&hmac(SECRET, &[&b]))
                ),
            )],
            bad: vec![vec![(
                "X-PagerDuty-Signature",
                format!("v1={}", hex(&hmac("old", &[&b]))),
            )]],
        },
    )
    .await;

    let b = body("zendesk/ticket_created");
    let ts = "2026-11-20T16:30:07Z";
    let zendesk = STANDARD.encode(hmac(SECRET, &[ts.as_bytes(), &b]));
    check(
        &app,
        &admin,
        &project,
        Case {
            service: "zendesk",
            fixture: "zendesk/ticket_created",
            secret: SECRET,
            good: vec![
                ("X-Zendesk-Webhook-Signature", zendesk.clone()),
                ("X-Zendesk-Webhook-Signature-Timestamp", ts.into()),
            ],
            bad: vec![
                vec![("X-Zendesk-Webhook-Signature", zendesk.clone())],
                vec![
                    ("X-Zendesk-Webhook-Signature", zendesk),
                    (
                        "X-Zendesk-Webhook-Signature-Timestamp",
                        "2026-11-20T16:30:08Z".into(),
                    ),
                ],
            ],
        },
    )
    .await;

    let b = body("incoming/slack_json");
    let t = now().to_string();
    let slack = |t: &str| {
        format!(
            "v0={}",
            hex(&hmac(SECRET, &[b"v0:", t.as_bytes(), b":", &b]))
        )
    };
    check(
        &app,
        &admin,
        &project,
        Case {
            service: "incoming",
            fixture: "incoming/slack_json",
            secret: SECRET,
            good: vec![
                ("X-Slack-Signature", slack(&t)),
                ("X-Slack-Request-Timestamp", t.clone()),
            ],
            bad: vec![
                vec![
                    ("X-Slack-Signature", slack(&stale)),
                    ("X-Slack-Request-Timestamp", stale.clone()),
                ],
                vec![
                    ("X-Slack-Signature", slack(&t)),
                    ("X-Slack-Request-Timestamp", (now() - 10).to_string()),
                ],
            ],
        },
    )
    .await;

    let b = body("chargify/payment_success");
    check(
        &app,
        &admin,
        &project,
        Case {
            service: "chargify",
            fixture: "chargify/payment_success",
            secret: SECRET,
            good: vec![(
                "X-Chargify-Webhook-Signature-Hmac-Sha-256",
                hex(&hmac(SECRET, &[&b])),
            )],
            bad: vec![vec![(
                "X-Chargify-Webhook-Signature-Hmac-Sha-256",
                hex(&hmac("nope", &[&b])),
            )]],
        },
    )
    .await;

    let b = body("netlify/deploy_failed");
    let jws = |digest: String, key: &str| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &json!({ "iss": "netlify", "sha256": digest }),
            &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap()
    };
    let digest = hex(&Sha256::digest(&b));
    check(
        &app,
        &admin,
        &project,
        Case {
            service: "netlify",
            fixture: "netlify/deploy_failed",
            secret: SECRET,
            good: vec![("X-Webhook-Signature", jws(digest.clone(), SECRET))],
            bad: vec![
                vec![("X-Webhook-Signature", jws(digest, "other"))],
                vec![(
                    "X-Webhook-Signature",
                    jws(hex(&Sha256::digest(b"{}")), SECRET),
                )],
            ],
        },
    )
    .await;

    // Formstack's handshake key travels in the body (fixture: fs-handshake-1).
    check(
        &app,
        &admin,
        &project,
        Case {
            service: "formstack",
            fixture: "formstack/submission",
            secret: "fs-handshake-1",
            good: vec![],
            bad: vec![],
        },
    )
    .await;
    let (_, path) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "formstack", "action": "chat", "secret": "another-key" }),
    )
    .await;
    assert_eq!(
        fixtures::load("formstack/submission")
            .send(&app, &path)
            .await
            .status(),
        401
    );

    // Services without a scheme of their own: Standard Webhooks, signed
    // here with the `standardwebhooks` crate…
    let b = body("datadog/monitor_alert");
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let signer = standardwebhooks::Webhook::new(secret).unwrap();
    let t = now();
    let signature = signer.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", t, &b).unwrap();
    check(
        &app,
        &admin,
        &project,
        Case {
            service: "datadog",
            fixture: "datadog/monitor_alert",
            secret,
            good: vec![
                ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek".into()),
                ("webhook-timestamp", t.to_string()),
                ("webhook-signature", signature.clone()),
            ],
            bad: vec![
                vec![],
                vec![
                    ("webhook-id", "msg_other".into()),
                    ("webhook-timestamp", t.to_string()),
                    ("webhook-signature", signature),
                ],
            ],
        },
    )
    .await;
    // …or the secret as the Basic password (the fixture sends jct:supersecret).
    check(
        &app,
        &admin,
        &project,
        Case {
            service: "chargebee",
            fixture: "chargebee/subscription_created",
            secret: "supersecret",
            good: vec![],
            bad: vec![vec![(
                "Authorization",
                format!("Basic {}", STANDARD.encode("jct:guess")),
            )]],
        },
    )
    .await;
}
