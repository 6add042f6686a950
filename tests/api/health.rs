use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn healthz_and_readyz_report_ok() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);

    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    let expected_redis = if std::env::var("TEST_REDIS_URL").is_ok() {
        "ok"
    } else {
        "not configured"
    };
    assert_eq!(body["redis"], expected_redis);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.graphql(None, "{ __typename }", json!({})).await;
    app.graphql(None, "{ nope }", json!({})).await;
    let text = app.metrics().await;
    assert!(
        text.contains(
            r#"junction_http_requests_total{method="POST",route="/graphql",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"junction_http_requests_total{method="POST",route="/graphql",status="400"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("junction_http_request_duration_seconds_bucket"));
}
