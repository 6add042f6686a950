//! What a new user and their tools meet first: introspection as clients
//! send it, persisted queries, CORS, times, field order, batches, `BIND`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::*;

/// graphql-js' full introspection query (nine `ofType` deep), as GraphiQL,
/// graphql-codegen and Postman send it.
const GRAPHQL_JS_INTROSPECTION: &str = include_str!("../fixtures/graphql-js-introspection.graphql");

#[tokio::test]
async fn graphql_js_full_introspection_query_is_answered() {
    let app = spawn_app().await;
    let (status, body) = app.graphql(None, GRAPHQL_JS_INTROSPECTION, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let schema = &body["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "Query");
    let query = schema["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Query")
        .expect("the Query type");
    assert!(
        query["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "me"),
        "Query.me listed"
    );

    // Still refused: introspection nesting lists in one another to grow
    // its answer exponentially, and introspection past its own depth.
    let cyclic =
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    let (status, body) = app.graphql(None, cyclic, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code_of(&body).as_deref(), Some("GRAPHQL_VALIDATION_FAILED"));
    let too_deep = format!(
        "{{ __type(name: \"Query\") {{ {}name{} }} }}",
        "ofType { ".repeat(25),
        " }".repeat(25)
    );
    let (status, body) = app.graphql(None, &too_deep, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("nested too deep"), "{body}");
}

#[tokio::test]
async fn introspection_can_be_switched_off() {
    let app = spawn_app_with(&["--graphql-introspection", "false"]).await;
    // The one-level query would be answered with introspection on.
    for query in [
        GRAPHQL_JS_INTROSPECTION,
        "{ __schema { queryType { name } } }",
    ] {
        let (status, body) = app.graphql(None, query, json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("GRAPHQL_INTROSPECTION"), "{body}");
    }
    let session = app.register("introspection-off").await;
    let data = app
        .ok(Some(&session.token), "{ me { role } }", json!({}))
        .await;
    assert_eq!(data["me"]["role"], "OWNER");
}

/// POSTs `body` as it is to `/graphql` of `app`.
async fn post(app: &TestApp, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_persisted_query_is_answered_by_its_hash_once_learned_by_any_server() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(&dir).await;
    let secret = format!("test-secret-{}", uuid::Uuid::now_v7());
    let prefix = unique_redis_prefix();
    let app = spawn_on(
        database_url.clone(),
        Some(secret.clone()),
        dir,
        &prefix,
        &[],
    )
    .await;
    let session = app.register("apq").await;
    let query = format!(
        "{{ me {{ role }} apq{}: __typename }}",
        uuid::Uuid::now_v7().simple()
    );
    let hash = hex::encode(Sha256::digest(query.as_bytes()));
    let by_hash =
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });

    let (status, body) = post(&app, Some(&session.token), by_hash.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["errors"][0]["message"], "PersistedQueryNotFound",
        "{body}"
    );
    assert_eq!(code_of(&body).as_deref(), Some("PERSISTED_QUERY_NOT_FOUND"));

    let mut with_query = by_hash.clone();
    with_query["query"] = json!(query);
    let (_, body) = post(&app, Some(&session.token), with_query).await;
    assert_eq!(body["data"]["me"]["role"], "OWNER", "{body}");
    let (_, body) = post(&app, Some(&session.token), by_hash.clone()).await;
    assert_eq!(body["data"]["me"]["role"], "OWNER", "{body}");

    // By GET too, as Apollo Client sends hashes with useGETForHashedQueries;
    // a GET runs queries only.
    let url = format!(
        "{}/graphql?extensions={}",
        app.address,
        url::form_urlencoded::byte_serialize(by_hash["extensions"].to_string().as_bytes())
            .collect::<String>()
    );
    let response = app
        .client
        .get(&url)
        .bearer_auth(&session.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["me"]["role"], "OWNER", "{body}");
    let mutation = format!(
        "{}/graphql?query={}",
        app.address,
        url::form_urlencoded::byte_serialize(b"mutation { createApiToken(name: \"x\") { token } }")
            .collect::<String>()
    );
    let response = app
        .client
        .get(&mutation)
        .bearer_auth(&session.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");

    let mut wrong = by_hash.clone();
    wrong["query"] = json!("{ __typename }");
    let (status, body) = post(&app, Some(&session.token), wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code_of(&body).as_deref(), Some("BAD_REQUEST"));

    // Another server of the deployment knows the hash through Redis.
    if std::env::var("TEST_REDIS_URL").is_ok() {
        let dir = tempfile::tempdir().unwrap();
        let other = spawn_on(database_url, Some(secret), dir, &prefix, &[]).await;
        let (_, body) = post(&other, Some(&session.token), by_hash).await;
        assert_eq!(body["data"]["me"]["role"], "OWNER", "{body}");
    }
}

#[tokio::test]
async fn cors_preflights_are_answered_for_allowed_origins_only() {
    let allowed = "https://app.example.com";
    let app = spawn_app_with(&["--cors-allowed-origins", allowed]).await;
    let preflight = |origin: &'static str, path: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}{path}", app.address))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            )
            .send()
    };
    for path in ["/graphql", "/rest/v1/service/integration_points"] {
        let response = preflight(allowed, path).await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        assert_eq!(
            response.headers()["access-control-allow-origin"],
            allowed,
            "{path}"
        );
        let methods = response.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap();
        assert!(methods.contains("POST"), "{methods}");

        let response = preflight("https://evil.example.net", path).await.unwrap();
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{path}: another origin is not allowed"
        );
    }
    // The answer itself carries the header for the allowed origin.
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("Origin", allowed)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], allowed);

    // Without the setting there is no CORS, and OPTIONS names each method once.
    let plain = spawn_app().await;
    let response = plain
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/graphql", plain.address),
        )
        .header("Origin", allowed)
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET, POST");
}

#[tokio::test]
async fn times_end_in_z_and_fields_come_in_the_order_of_the_query() {
    let app = spawn_app().await;
    let session = app.register("order").await;
    let project = app.create_project(&session, "Ordered").await;
    let data = app
        .ok(
            Some(&session.token),
            "{ me { user { createdAt } } }",
            json!({}),
        )
        .await;
    let created = data["me"]["user"]["createdAt"].as_str().unwrap();
    assert!(created.ends_with('Z'), "{created}");
    chrono::DateTime::parse_from_rfc3339(created).unwrap();

    // Fields that wait on the database beside ones that do not.
    let aliases = ["z", "c", "a", "m", "b", "y", "d"];
    let query = format!(
        "query($p: ID!) {{ {} }}",
        aliases
            .iter()
            .enumerate()
            .map(|(i, alias)| match i % 3 {
                0 => format!("{alias}: project(id: $p) {{ name createdAt }}"),
                1 => format!("{alias}: __typename"),
                _ => format!("{alias}: me {{ role user {{ email }} }}"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    );
    for _ in 0..20 {
        // The text as sent: serde_json's map would sort the keys.
        let text = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&session.token)
            .json(&json!({ "query": query, "variables": { "p": project } }))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let at = |key: &str| {
            text.find(&format!("\"{key}\":"))
                .unwrap_or_else(|| panic!("{key} in {text}"))
        };
        let positions: Vec<usize> = aliases.iter().map(|alias| at(alias)).collect();
        assert!(
            positions.is_sorted(),
            "fields out of the query's order: {text}"
        );
        assert!(at("name") < at("createdAt"), "{text}");
    }
}

#[tokio::test]
async fn a_batch_over_the_complexity_limit_is_refused_whole_and_runs_nothing() {
    let app = spawn_app_with(&["--graphql-max-complexity", "10"]).await;
    let session = app.register("batch").await;
    let create = |name: &str| json!({ "query": format!("mutation {{ createProject(input: {{name: \"{name}\"}}) {{ id name }} }}") });
    // Each operation alone is within the limit; together they are not.
    let (status, body) = post(
        &app,
        Some(&session.token),
        json!([
            create("one"),
            create("two"),
            create("three"),
            create("four")
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        code_of(&body).as_deref(),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    assert!(body.to_string().contains("none was run"), "{body}");
    assert_eq!(app.count_rows("projects").await, 0, "nothing was created");

    let (status, body) = post(
        &app,
        Some(&session.token),
        json!([create("one"), create("two")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[1]["data"]["createProject"]["name"], "two", "{body}");

    // Introspection deeper than GRAPHQL_MAX_DEPTH counts as well.
    let app = spawn_app_with(&["--graphql-max-complexity", "20"]).await;
    let deep = json!({ "query": format!(
        "{{ __type(name: \"Query\") {{ {}name{} }} }}",
        "ofType { ".repeat(13),
        " }".repeat(13)
    ) });
    let (status, body) = post(&app, None, json!([deep.clone()])).await;
    assert_eq!(status, StatusCode::OK, "one is within the limit: {body}");
    assert!(body[0]["errors"].is_null(), "{body}");
    let (status, body) = post(&app, None, json!([deep.clone(), deep])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn bind_takes_a_host_name() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(&dir).await;
    let extra = ["--bind", "localhost:0"];
    let app = spawn_on(database_url, None, dir, &unique_redis_prefix(), &extra).await;
    // By the host name, as a user would reach it.
    let response = app
        .client
        .get(format!("http://localhost:{}/healthz", app.port))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn graphiql_and_its_files_come_from_the_server_itself() {
    let app = spawn_app().await;
    let page = app.get("/graphql").await;
    assert_eq!(page.status(), StatusCode::OK);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.starts_with("default-src 'self'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Headers tab"),
        "the page says where the token goes"
    );
    let sources: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with("/graphiql/") || s.contains("://"))
        .collect();
    assert!(!sources.is_empty());
    for source in sources {
        assert!(
            source.starts_with("/graphiql/"),
            "{source} is loaded from elsewhere"
        );
        let file = app.get(source).await;
        assert_eq!(file.status(), StatusCode::OK, "{source}");
        assert!(!file.bytes().await.unwrap().is_empty());
    }
    assert_eq!(
        app.get("/graphiql/nothing.js").await.status(),
        StatusCode::NOT_FOUND
    );
    // A browser's page load gets the page even with a query in the URL.
    let page = app
        .client
        .get(format!("{}/graphql?query=%7B__typename%7D", app.address))
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("Headers tab"));
}
