use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { token } }";

#[tokio::test]
async fn register_then_me_with_the_session_token() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let data = app.ok(Some(&ann.token), ME, json!({})).await;
    assert_eq!(data["me"]["user"]["id"], ann.user_id.as_str());
    assert_eq!(
        data["me"]["organization"]["id"],
        ann.organization_id.as_str()
    );
    assert_eq!(data["me"]["role"], "OWNER");
    assert_eq!(data["me"]["apiTokenId"], serde_json::Value::Null);
}

#[tokio::test]
async fn graphiql_is_served_on_get() {
    let app = spawn_app().await;
    let response = app.get("/graphql").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );
}

#[tokio::test]
async fn registering_an_existing_email_conflicts_and_creates_nothing() {
    let app = spawn_app().await;
    let email = unique_email("dup");
    let input = json!({ "input": { "email": email, "name": "A", "password": PASSWORD, "organizationName": "A" } });
    app.ok(None, REGISTER, input.clone()).await;
    let (users, orgs) = (
        app.count_rows("users").await,
        app.count_rows("organizations").await,
    );

    // Same address in another case is the same address.
    let upper = json!({ "input": { "email": email.to_uppercase(), "name": "B", "password": PASSWORD, "organizationName": "B" } });
    assert_eq!(app.error_code(None, REGISTER, upper).await, "CONFLICT");
    assert_eq!(app.count_rows("users").await, users);
    assert_eq!(app.count_rows("organizations").await, orgs);
}

#[tokio::test]
async fn invalid_registrations_are_bad_user_input_and_create_nothing() {
    let app = spawn_app().await;
    for (email, password, org) in [
        ("not-an-email", PASSWORD, "Org"),
        ("short@example.com", "short", "Org"),
        ("blank@example.com", PASSWORD, "   "),
    ] {
        let (status, body) = app
            .graphql(None, REGISTER, json!({ "input": { "email": email, "name": "N", "password": password, "organizationName": org } }))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(code_of(&body).as_deref(), Some("BAD_USER_INPUT"), "{body}");
        assert!(
            body["errors"][0]["message"].as_str().unwrap().len() > 10,
            "message explains: {body}"
        );
    }
    assert_eq!(app.count_rows("users").await, 0);
    assert_eq!(app.count_rows("organizations").await, 0);
}

#[tokio::test]
async fn login_checks_the_password() {
    let app = spawn_app().await;
    let email = unique_email("login");
    app.ok(None, REGISTER, json!({ "input": { "email": email, "name": "L", "password": PASSWORD, "organizationName": "L" } }))
        .await;
    let session = app.login(&email.to_uppercase(), None).await;
    app.ok(Some(&session.token), ME, json!({})).await;

    let login = "mutation($input: LoginInput!) { login(input: $input) { token } }";
    for (email, password) in [
        (email.as_str(), "wrong password"),
        ("nobody@example.com", PASSWORD),
    ] {
        let code = app
            .error_code(
                None,
                login,
                json!({ "input": { "email": email, "password": password } }),
            )
            .await;
        assert_eq!(code, "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn missing_forged_expired_and_garbage_tokens_are_unauthenticated() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;

    let (_, body) = app.graphql(None, ME, json!({})).await;
    assert_eq!(code_of(&body).as_deref(), Some("UNAUTHENTICATED"));

    let claims =
        |exp: i64| json!({ "sub": ann.user_id, "org": ann.organization_id, "iat": 0, "exp": exp });
    let sign = |secret: &str, exp: i64| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims(exp),
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    let in_an_hour = chrono::Utc::now().timestamp() + 3600;
    let forged = sign("some-other-secret-that-is-long-enough", in_an_hour);
    let expired = sign(&app.jwt_secret, chrono::Utc::now().timestamp() - 10);
    let genuine = sign(&app.jwt_secret, in_an_hour);

    for (token, message) in [
        (forged.as_str(), "token is invalid"),
        (expired.as_str(), "token has expired"),
        ("garbage", "token is invalid"),
        ("jct_unknown", "API token is invalid or revoked"),
    ] {
        let (_, body) = app.graphql(Some(token), ME, json!({})).await;
        assert_eq!(code_of(&body).as_deref(), Some("UNAUTHENTICATED"), "{body}");
        assert_eq!(body["errors"][0]["message"], message);
    }
    // The same claims signed with the server's key are accepted.
    app.ok(Some(&genuine), ME, json!({})).await;
}

#[tokio::test]
async fn a_generated_jwt_secret_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(&dir).await;
    let prefix = unique_redis_prefix();
    let first = spawn_on(
        database_url.clone(),
        None,
        tempfile::tempdir().unwrap(),
        &prefix,
        &[],
    )
    .await;
    let ann = first.register("ann").await;

    let second = spawn_on(database_url, None, dir, &prefix, &[]).await;
    let data = second.ok(Some(&ann.token), ME, json!({})).await;
    assert_eq!(data["me"]["user"]["id"], ann.user_id.as_str());
}

#[tokio::test]
async fn password_guesses_past_the_limit_are_refused_for_a_while_even_the_right_one() {
    let extra = ["--login-max-failures", "3", "--login-lockout-seconds", "2"];
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(&dir).await;
    let prefix = unique_redis_prefix();
    let app = spawn_on(database_url.clone(), None, dir, &prefix, &extra).await;
    let [email, bystander] = ["guessed", "bystander"].map(unique_email);
    for email in [&email, &bystander] {
        app.ok(None, REGISTER, json!({ "input": { "email": email, "name": "G", "password": PASSWORD, "organizationName": "G" } }))
            .await;
    }
    let login = "mutation($input: LoginInput!) { login(input: $input) { token } }";
    let attempt = |email: &str, password: &str| {
        app.graphql(
            None,
            login,
            json!({ "input": { "email": email, "password": password } }),
        )
    };
    for _ in 0..3 {
        let (_, body) = attempt(&email, "wrong password").await;
        assert_eq!(code_of(&body).as_deref(), Some("UNAUTHENTICATED"), "{body}");
    }
    // The fourth try is refused before the password is checked: the right
    // one too, or the refusal would tell a guesser when they hit it.
    let (status, body) = attempt(&email, PASSWORD).await;
    assert_eq!(status, reqwest::StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(
        code_of(&body).as_deref(),
        Some("TOO_MANY_REQUESTS"),
        "{body}"
    );
    let retry_after = body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap_or_else(|| panic!("retryAfter in {body}"));
    assert!((1..=2).contains(&retry_after), "{body}");

    // Another account is not affected; an unknown address is limited the
    // same way, so the answers do not tell which addresses exist.
    app.login(&bystander, None).await;
    let nobody = unique_email("nobody");
    for expected in ["UNAUTHENTICATED"; 3]
        .into_iter()
        .chain(["TOO_MANY_REQUESTS"])
    {
        let (_, body) = attempt(&nobody, PASSWORD).await;
        assert_eq!(code_of(&body).as_deref(), Some(expected), "{body}");
    }

    // A second server of the same deployment shares the count through
    // Redis (without Redis each process counts its own).
    if std::env::var("TEST_REDIS_URL").is_ok() {
        let other = spawn_on(
            database_url,
            None,
            tempfile::tempdir().unwrap(),
            &prefix,
            &extra,
        )
        .await;
        let (_, body) = other
            .graphql(
                None,
                login,
                json!({ "input": { "email": email, "password": PASSWORD } }),
            )
            .await;
        assert_eq!(
            code_of(&body).as_deref(),
            Some("TOO_MANY_REQUESTS"),
            "{body}"
        );
    }

    // Once the window has passed the right password gets in, and clears
    // the count: three more wrong tries are answered as such.
    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    app.login(&email, None).await;
    for _ in 0..3 {
        let (_, body) = attempt(&email, "wrong password").await;
        assert_eq!(code_of(&body).as_deref(), Some("UNAUTHENTICATED"), "{body}");
    }
}
