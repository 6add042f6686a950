use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn one_organization_never_sees_or_touches_anothers_data() {
    let app = spawn_app().await;
    let acme = app.register("acme").await;
    let (_, acme_member) = app.add_member(&acme, "bob", "MEMBER").await;
    let (_, acme_token) = app.create_api_token(&acme, "acme's").await;
    let globex = app.register("globex").await;

    let members = app
        .ok(
            Some(&globex.token),
            "{ members { totalCount edges { node { user { id } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(members["members"]["totalCount"], 1);
    assert_eq!(
        members["members"]["edges"][0]["node"]["user"]["id"],
        globex.user_id.as_str()
    );

    let events = app
        .ok(Some(&globex.token), "{ events { totalCount } }", json!({}))
        .await;
    assert_eq!(events["events"]["totalCount"], 0);
    let tokens = app
        .ok(
            Some(&globex.token),
            "{ apiTokens { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(tokens["apiTokens"]["totalCount"], 0);

    // Another organization's ids are simply not found, never forbidden.
    for (query, vars) in [
        (
            "mutation($id: ID!) { updateMemberRole(id: $id, role: ADMIN) { id } }",
            json!({ "id": acme_member }),
        ),
        (
            "mutation($id: ID!) { removeMember(id: $id) { id } }",
            json!({ "id": acme_member }),
        ),
        (
            "mutation($id: ID!) { revokeApiToken(id: $id) { id } }",
            json!({ "id": acme_token }),
        ),
    ] {
        assert_eq!(
            app.error_code(Some(&globex.token), query, vars).await,
            "NOT_FOUND"
        );
    }
    let acme_members = app
        .ok(Some(&acme.token), "{ members { totalCount } }", json!({}))
        .await;
    assert_eq!(acme_members["members"]["totalCount"], 2);
}
