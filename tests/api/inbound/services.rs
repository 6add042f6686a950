//! Every one of the 28 services: its documented payloads, posted as the
//! service posts them, become readable chat messages.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{fixtures, integrate, messages, workspace};
use crate::helpers::spawn_app;

/// Each fixture and what the message it creates must say.
const CASES: &[(&str, &[&str])] = &[
    (
        "appsignal/exception",
        &[
            "ActionView::Template::Error: undefined method `price' for nil:NilClass",
            "Action: CheckoutController#show",
            "https://appsignal.com/acme/sites/5de3f1/exceptions/incidents/48",
        ],
    ),
    (
        "appsignal/marker",
        &["thijs deployed 3107ddc to production", "Site: Acme shop"],
    ),
    (
        "bitbucket/pullrequest_fulfilled",
        &[
            "Noah Berg merged pull request #87: Rate limiting for the public API in acme/api",
            "Branch: feature/rate-limit → main",
            "https://bitbucket.org/acme/api/pull-requests/87",
        ],
    ),
    (
        "bitbucket/repo_push",
        &[
            "Emma Larsen pushed 1 commit to release/2.3 of acme/api",
            "- 709d658 Add rate limiting to the public API",
            "https://bitbucket.org/acme/api/branches/compare/",
        ],
    ),
    (
        "chargebee/subscription_created",
        &[
            "Chargebee: subscription created for lena@acme.io",
            "Plan: team-monthly",
            "Amount: 125.00 EUR",
            "Status: active",
        ],
    ),
    (
        "chargify/payment_success",
        &[
            "Chargify: payment success for lena@acme.io",
            "Product: Team Plan",
            "Amount: 49.00",
        ],
    ),
    (
        "crashlytics/issue_impact_change",
        &[
            "Crash issue #123 is affecting 16 device(s): SIGABRT in CheckoutViewController",
            "Crashes: 54",
            "https://fabric.io/acme/ios/apps/io.acme.shop/issues/5be1a3",
        ],
    ),
    (
        "datadog/monitor_alert",
        &[
            "[Triggered] High CPU on web-3",
            "CPU usage is above 90% on web-3",
            "Tags: env:prod,role:web",
            "https://app.datadoghq.com/event/event?id=7453921176845410001",
        ],
    ),
    (
        "formstack/submission",
        &[
            "New submission to form 4512332",
            "Email: ada@example.com",
            "Name: Ada Lovelace",
            "Message: I would like a demo of the export API.",
            "https://www.formstack.com/admin/submission/view/987654321",
        ],
    ),
    (
        "fulcrum/record_create",
        &[
            "Fulcrum record 7a3e5f1c-2b4d-4e6f-8a9b-0c1d2e3f4a5b created",
            "Status: needs inspection",
            "Location: 52.52, 13.405",
            "https://web.fulcrumapp.com/records/7a3e5f1c-2b4d-4e6f-8a9b-0c1d2e3f4a5b",
        ],
    ),
    (
        "github/issue_comment",
        &[
            "hubot commented on #1348: Found a bug in the exporter in octo-org/hello-world",
            "I can reproduce it with an empty trailing line.",
            "https://github.com/octo-org/hello-world/issues/1348#issuecomment-1009",
        ],
    ),
    (
        "github/issues_opened",
        &[
            "octocat opened issue #1348: Found a bug in the exporter in octo-org/hello-world",
            "https://github.com/octo-org/hello-world/issues/1348",
        ],
    ),
    (
        "github/pull_request_merged",
        &[
            "hubot merged pull request #1347: Amazing new feature in octo-org/hello-world",
            "Branch: new-topic → main",
            "https://github.com/octo-org/hello-world/pull/1347",
        ],
    ),
    (
        "github/push",
        &[
            "octocat pushed 2 commits to main of octo-org/hello-world",
            "- 0d1a26e Fix the flaky login test (Mona Lisa Octocat)",
            "- c441029 Bump version to 1.4.2 (Hubot)",
            "https://github.com/octo-org/hello-world/compare/6113728f27ae...0d1a26e67d8f",
        ],
    ),
    (
        "github/release_published",
        &[
            "octocat published release v1.4.2 — exporter fixes of octo-org/hello-world",
            "https://github.com/octo-org/hello-world/releases/tag/v1.4.2",
        ],
    ),
    (
        "github/star_created",
        &[
            "GitHub sent star",
            "Repository: octo-org/hello-world",
            "By: defunkt",
        ],
    ),
    (
        "github/workflow_run_failed",
        &[
            "Workflow CI failure on new-topic of octo-org/hello-world",
            "Triggered by: octocat",
            "https://github.com/octo-org/hello-world/actions/runs/30433642",
        ],
    ),
    (
        "hubspot/contact_events",
        &[
            "HubSpot: 2 events",
            "- contact 123 created",
            "- contact 123: lifecyclestage changed to customer",
            "https://app.hubspot.com/contacts/62515/contact/123",
        ],
    ),
    (
        "incoming/blocks_form",
        &[
            "Weekly report",
            "*12* tickets closed, *3* opened",
            "Sent by the support bot",
        ],
    ),
    (
        "incoming/slack_json",
        &[
            "Deploy of *api* finished :rocket:",
            "Build report",
            "Build 42",
            "All 312 tests passed",
            "Branch: main",
            "https://ci.example.com/builds/42",
        ],
    ),
    (
        "intercom/conversation_user_created",
        &[
            "New conversation from Ada Lovelace",
            "Hi, I can't find the CSV export button anymore.",
            "https://app.intercom.com/a/apps/ecahpwf5/conversations/147",
        ],
    ),
    (
        "jira/comment_created",
        &[
            "Jonas Weber commented on OPS-42: Backups fail on the EU cluster",
            "The disk quota on backup-eu-2 is full",
            "https://acme.atlassian.net/browse/OPS-42",
        ],
    ),
    (
        "jira/issue_created",
        &[
            "Priya Raman created bug OPS-42: Backups fail on the EU cluster",
            "Priority: High",
            "Assignee: Jonas Weber",
            "https://acme.atlassian.net/browse/OPS-42",
        ],
    ),
    (
        "jira/issue_updated",
        &[
            "Jonas Weber updated OPS-42: Backups fail on the EU cluster",
            "status: To Do → In Progress",
        ],
    ),
    (
        "librato/alert",
        &[
            "Librato alert production.web.response_time triggered",
            "web-1: router.response_time = 1240",
            "https://wiki.acme.io/runbooks/response-time",
        ],
    ),
    (
        "mailchimp/subscribe",
        &[
            "api@mailchimp.com subscribed to list a6b5da1054",
            "Name: Mailchimp API",
            "At: 2026-11-20 17:35:57",
        ],
    ),
    (
        "mailchimp/unsubscribe",
        &[
            "api+unsub@mailchimp.com unsubscribed from list a6b5da1054",
            "Reason: manual",
        ],
    ),
    (
        "netlify/deploy_failed",
        &[
            "Deploy of acme-docs failed",
            "Error: Build script returned non-zero exit code: 2",
            "Branch: main",
            "Commit: Document the new export API",
        ],
    ),
    (
        "netlify/deploy_succeeded",
        &[
            "Deploy of acme-docs succeeded",
            "Context: production",
            "https://6744a2f0b0c2a100084d3e30--acme-docs.netlify.app",
        ],
    ),
    (
        "olark/conversation",
        &[
            "Chat with Ada Lovelace (2 message(s))",
            "Ada Lovelace: Do you offer an on-premise plan?",
            "Sam: Yes, Junction runs anywhere.",
            "https://www.acme.io/pricing",
        ],
    ),
    (
        "opbeat/error_group",
        &[
            "acme-web error group created: ZeroDivisionError: division by zero",
            "Culprit: billing.invoices.prorate",
            "https://opbeat.com/acme/acme-web/errors/212/",
        ],
    ),
    (
        "opsgenie/alert_acknowledge",
        &[
            "Alert 1791 acknowledged: Disk usage above 95% on db-1",
            "By: lena@acme.io",
        ],
    ),
    (
        "opsgenie/alert_create",
        &[
            "Alert 1791 created: Disk usage above 95% on db-1",
            "Priority: P2",
            "Entity: db-1",
            "Tags: database, prod",
        ],
    ),
    (
        "pagerduty/incident_resolved",
        &[
            "Incident #2 resolved: A little bump in the road",
            "By: User 123",
        ],
    ),
    (
        "pagerduty/incident_triggered",
        &[
            "Incident #2 triggered: A little bump in the road",
            "Service: API Service",
            "Urgency: high",
            "https://acme.pagerduty.com/incidents/PGR0VU2",
        ],
    ),
    (
        "paypal/capture_completed",
        &[
            "Payment completed for $ 7.47 USD",
            "Event: PAYMENT.CAPTURE.COMPLETED",
            "Amount: 7.47 USD",
            "https://api.paypal.com/v2/payments/captures/42311647XV020574X",
        ],
    ),
    (
        "pivotaltracker/story_started",
        &[
            "Darth Vader started this feature in Death Star",
            "Story: Bring me the passengers",
            "https://www.pivotaltracker.com/story/show/555",
        ],
    ),
    (
        "postmark/bounce",
        &[
            "Hard bounce for john@example.com: You are invited to the Acme workspace",
            "Details: smtp;550 5.1.1",
            "Tag: invitation",
        ],
    ),
    (
        "postmark/inbound_email",
        &[
            "E-mail from Postmarkapp Support: Test subject",
            "This is a test text body.",
        ],
    ),
    (
        "stripe/charge_succeeded",
        &[
            "Stripe charge of 20.00 USD succeeded",
            "Description: Team plan, November",
            "Customer: billing@acme.io",
            "https://dashboard.stripe.com/test/events/evt_3QNcH2LkdIwHu7ix0a2Wb8Yz",
        ],
    ),
    (
        "stripe/invoice_payment_failed",
        &[
            "Stripe invoice of 49.00 EUR payment failed",
            "Customer: finance@acme.io",
            "https://dashboard.stripe.com/events/evt_1QNcJ9LkdIwHu7ixW3e4r5T6",
        ],
    ),
    (
        "supportbee/ticket_created",
        &[
            "New ticket from Ada Lovelace: Cannot log in after the update",
            "Since this morning the login page says my password is wrong.",
            "Ticket: 9120",
        ],
    ),
    (
        "yo/yo_link",
        &["Yo from ALICE", "https://www.acme.io/blog/launch"],
    ),
    (
        "yo/yo_location",
        &["Yo from BOB", "https://maps.google.com/?q=52.5200,13.4050"],
    ),
    (
        "zendesk/ticket_created",
        &[
            "Ticket #35436 created: Help, my printer is on fire!",
            "Status: OPEN",
            "Priority: HIGH",
            "Via: web_form",
        ],
    ),
    (
        "zendesk/ticket_status_changed",
        &["Ticket #35436 status changed from OPEN to SOLVED: Help, my printer is on fire!"],
    ),
    (
        "zoho/ticket_add",
        &[
            "Ticket #1041 created: Refund for double charge",
            "Status: Open",
            "Contact: Carol Diaz",
            "https://desk.zoho.com/support/acme/ShowHomePage.do#Cases/dv/1892000000093239",
        ],
    ),
];

/// Set-up calls the services make; they are answered and create nothing.
pub const HANDSHAKES: &[&str] = &["crashlytics/verification", "github/ping", "pagerduty/ping"];

#[tokio::test]
async fn every_fixture_is_checked_and_every_service_has_one() {
    let checked: BTreeSet<&str> = CASES
        .iter()
        .map(|(n, _)| *n)
        .chain(HANDSHAKES.iter().copied())
        .collect();
    let on_disk: Vec<String> = fixtures::all();
    assert_eq!(
        on_disk.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        checked,
        "fixtures on disk and cases differ"
    );
    let services: BTreeSet<&str> = CASES
        .iter()
        .map(|(n, _)| n.split('/').next().unwrap())
        .collect();
    assert_eq!(services.len(), 28, "{services:?}");
}

#[tokio::test]
async fn each_services_payloads_become_readable_messages_by_the_integration() {
    let app = spawn_app().await;
    let (admin, project) = workspace(&app, "inbound-services").await;
    let mut paths: BTreeMap<&str, (String, String)> = BTreeMap::new();
    for (name, expected) in CASES {
        let service = name.split('/').next().unwrap();
        if !paths.contains_key(service) {
            let created = integrate(
                &app,
                &admin,
                &project,
                json!({ "service": service, "action": "chat", "description": "" }),
            )
            .await;
            paths.insert(service, created);
        }
        let (integration_id, path) = &paths[service];
        let response = fixtures::load(name).send(&app, path).await;
        assert_eq!(
            response.status(),
            201,
            "{name}: {}",
            response.text().await.unwrap()
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "RESPONSE_SUCCESS");
        assert_eq!(body["data"]["type"], "message", "{name}");
        let message = messages(&app, &admin.token, &project)
            .await
            .into_iter()
            .find(|m| m["id"] == body["data"]["id"])
            .unwrap_or_else(|| panic!("{name}: message not listed"));
        let text = message["text"].as_str().unwrap();
        for want in *expected {
            assert!(text.contains(want), "{name}: {want:?} not in\n{text}");
        }
        assert_eq!(
            message["authorIntegrationId"],
            json!(integration_id),
            "{name}"
        );
        assert!(
            message["authorName"]
                .as_str()
                .is_some_and(|n| !n.is_empty())
        );
    }
    // The handshake key is Formstack's secret: never echoed into the room.
    let all = messages(&app, &admin.token, &project).await;
    assert!(
        all.iter()
            .all(|m| !m["text"].as_str().unwrap().contains("fs-handshake-1"))
    );
    let authors: BTreeSet<&str> = all
        .iter()
        .filter_map(|m| m["authorName"].as_str())
        .collect();
    for name in [
        "GitHub",
        "Pivotal Tracker",
        "deploy-bot",
        "Incoming webhook",
    ] {
        assert!(authors.contains(name), "{name} not among {authors:?}");
    }
}

#[tokio::test]
async fn handshakes_are_answered_and_create_nothing() {
    let app = spawn_app().await;
    let (admin, project) = workspace(&app, "inbound-handshakes").await;
    for name in HANDSHAKES {
        let service = name.split('/').next().unwrap();
        let (_, path) = integrate(
            &app,
            &admin,
            &project,
            json!({ "service": service, "action": "chat" }),
        )
        .await;
        let response = fixtures::load(name).send(&app, &path).await;
        assert_eq!(response.status(), 200, "{name}");
    }
    let (_, path) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "incoming", "action": "chat" }),
    )
    .await;
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .json(&json!({ "type": "url_verification", "token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
    // Mailchimp checks a URL with a GET before saving it.
    let (_, path) = integrate(
        &app,
        &admin,
        &project,
        json!({ "service": "mailchimp", "action": "chat" }),
    )
    .await;
    let response = app.get(&path).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.count_rows("messages").await, 0);
}
