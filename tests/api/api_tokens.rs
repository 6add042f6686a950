use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const REVOKE: &str = "mutation($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }";
const LIST: &str = "query($all: Boolean) { apiTokens(includeRevoked: $all) { totalCount edges { node { id name prefix userId revokedAt } } } }";

#[tokio::test]
async fn an_api_token_authenticates_as_bearer_and_as_x_cam_api_token() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let (token, token_id) = app.create_api_token(&ann, "ci").await;
    assert!(token.starts_with("jct_"));

    let data = app.ok(Some(&token), ME, json!({})).await;
    assert_eq!(data["me"]["apiTokenId"], token_id.as_str());
    assert_eq!(data["me"]["user"]["id"], ann.user_id.as_str());

    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("x-cam-apiToken", &token)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["data"]["me"]["apiTokenId"], token_id.as_str());
}

#[tokio::test]
async fn tokens_are_listed_without_their_secret_and_stored_hashed() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let (token, _) = app.create_api_token(&ann, "deploy").await;

    let data = app.ok(Some(&ann.token), LIST, json!({})).await;
    let listed = &data["apiTokens"]["edges"][0]["node"];
    assert_eq!(data["apiTokens"]["totalCount"], 1);
    assert_eq!(listed["name"], "deploy");
    assert!(token.starts_with(listed["prefix"].as_str().unwrap()));
    assert!(!listed.to_string().contains(&token));

    let db = sea_orm::Database::connect(&app.database_url).await.unwrap();
    let rows = <sea_orm::DatabaseConnection as sea_orm::ConnectionTrait>::query_all_raw(
        &db,
        sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT token_hash FROM api_tokens",
        ),
    )
    .await
    .unwrap();
    let stored: String = rows[0].try_get("", "token_hash").unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored.len(), 64);
}

#[tokio::test]
async fn a_revoked_token_is_unauthenticated() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let (token, id) = app.create_api_token(&ann, "old").await;
    app.ok(Some(&token), ME, json!({})).await;

    let data = app.ok(Some(&ann.token), REVOKE, json!({ "id": id })).await;
    assert!(data["revokeApiToken"]["revokedAt"].is_string());
    let (_, body) = app.graphql(Some(&token), ME, json!({})).await;
    assert_eq!(code_of(&body).as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(
        body["errors"][0]["message"],
        "API token is invalid or revoked"
    );

    let active = app.ok(Some(&ann.token), LIST, json!({})).await;
    assert_eq!(active["apiTokens"]["totalCount"], 0);
    let all = app.ok(Some(&ann.token), LIST, json!({ "all": true })).await;
    assert_eq!(all["apiTokens"]["totalCount"], 1);
}

#[tokio::test]
async fn members_manage_their_own_tokens_and_admins_everyones() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let (bob, _) = app.add_member(&owner, "bob", "MEMBER").await;
    let (carol, _) = app.add_member(&owner, "carol", "MEMBER").await;
    let (_, bobs_token) = app.create_api_token(&bob, "bob's").await;

    // Carol neither sees nor revokes Bob's token.
    let data = app.ok(Some(&carol.token), LIST, json!({})).await;
    assert_eq!(data["apiTokens"]["totalCount"], 0);
    assert_eq!(
        app.error_code(Some(&carol.token), REVOKE, json!({ "id": bobs_token }))
            .await,
        "FORBIDDEN"
    );

    // The owner sees and revokes it.
    let data = app.ok(Some(&owner.token), LIST, json!({})).await;
    assert_eq!(data["apiTokens"]["totalCount"], 1);
    app.ok(Some(&owner.token), REVOKE, json!({ "id": bobs_token }))
        .await;
}

#[tokio::test]
async fn removing_a_member_disables_their_sessions_and_tokens() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let (bob, bob_member_id) = app.add_member(&owner, "bob", "ADMIN").await;
    let (token, _) = app.create_api_token(&bob, "bob's").await;

    app.ok(
        Some(&owner.token),
        "mutation($id: ID!) { removeMember(id: $id) { id } }",
        json!({ "id": bob_member_id }),
    )
    .await;
    for credential in [&token, &bob.token] {
        let (_, body) = app.graphql(Some(credential), ME, json!({})).await;
        assert_eq!(code_of(&body).as_deref(), Some("UNAUTHENTICATED"), "{body}");
    }
}
