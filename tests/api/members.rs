use serde_json::json;

use crate::helpers::*;

const ADD: &str =
    "mutation($input: AddMemberInput!) { addMember(input: $input) { id role user { email } } }";
const UPDATE: &str =
    "mutation($id: ID!, $role: Role!) { updateMemberRole(id: $id, role: $role) { id role } }";
const REMOVE: &str = "mutation($id: ID!) { removeMember(id: $id) { id } }";
/// The id of `session`'s own membership of its organization.
async fn membership_id(app: &TestApp, session: &Session) -> String {
    let members = app
        .ok(
            Some(&session.token),
            "{ members { edges { node { id user { id } } } } }",
            json!({}),
        )
        .await;
    members["members"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["user"]["id"] == session.user_id.as_str())
        .unwrap()["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

const EVENTS: &str = "query($types: [String!]) { events(types: $types) { totalCount edges { node { type actorId currentValue previousValue } } } }";

#[tokio::test]
async fn an_admin_adds_a_member_who_can_then_log_in() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let email = unique_email("bob");
    let data = app
        .ok(
            Some(&owner.token),
            ADD,
            json!({ "input": { "email": email, "role": "MEMBER", "name": "Bob", "password": PASSWORD } }),
        )
        .await;
    assert_eq!(data["addMember"]["role"], "MEMBER");
    let bob = app.login(&email, Some(&owner.organization_id)).await;
    let me = app.ok(Some(&bob.token), ME, json!({})).await;
    assert_eq!(me["me"]["role"], "MEMBER");
    assert_eq!(
        me["me"]["organization"]["id"],
        owner.organization_id.as_str()
    );

    // Adding the same person twice is a conflict.
    let again = json!({ "input": { "email": email, "role": "ADMIN" } });
    assert_eq!(
        app.error_code(Some(&owner.token), ADD, again).await,
        "CONFLICT"
    );
}

#[tokio::test]
async fn an_existing_user_joins_a_second_organization() {
    let app = spawn_app().await;
    let acme = app.register("acme").await;
    let email = unique_email("dual");
    app.ok(
        None,
        "mutation($input: RegisterInput!) { register(input: $input) { token } }",
        json!({ "input": { "email": email, "name": "Dual", "password": PASSWORD, "organizationName": "Own" } }),
    )
    .await;
    app.ok(
        Some(&acme.token),
        ADD,
        json!({ "input": { "email": email, "role": "MEMBER" } }),
    )
    .await;
    let in_acme = app.login(&email, Some(&acme.organization_id)).await;
    assert_eq!(in_acme.organization_id, acme.organization_id);
}

#[tokio::test]
async fn a_member_cannot_use_admin_mutations_and_nothing_changes() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let (bob, bob_id) = app.add_member(&owner, "bob", "MEMBER").await;
    let memberships = app.count_rows("memberships").await;

    let add = json!({ "input": { "email": unique_email("eve"), "role": "MEMBER", "name": "Eve", "password": PASSWORD } });
    assert_eq!(
        app.error_code(Some(&bob.token), ADD, add).await,
        "FORBIDDEN"
    );
    let promote = json!({ "id": bob_id, "role": "ADMIN" });
    assert_eq!(
        app.error_code(Some(&bob.token), UPDATE, promote).await,
        "FORBIDDEN"
    );

    assert_eq!(app.count_rows("memberships").await, memberships);
    assert_eq!(app.count_rows("users").await, 2);
    let me = app.ok(Some(&bob.token), ME, json!({})).await;
    assert_eq!(me["me"]["role"], "MEMBER");
}

#[tokio::test]
async fn only_owners_hand_out_ownership_and_the_last_owner_stays() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let (admin, _) = app.add_member(&owner, "admin", "ADMIN").await;
    let (_, bob_id) = app.add_member(&owner, "bob", "MEMBER").await;

    let make_owner = json!({ "id": bob_id, "role": "OWNER" });
    assert_eq!(
        app.error_code(Some(&admin.token), UPDATE, make_owner.clone())
            .await,
        "FORBIDDEN"
    );
    let data = app.ok(Some(&owner.token), UPDATE, make_owner).await;
    assert_eq!(data["updateMemberRole"]["role"], "OWNER");

    // Two owners now: one may step down, but not the last.
    let own_id = membership_id(&app, &owner).await;
    app.ok(
        Some(&owner.token),
        UPDATE,
        json!({ "id": bob_id, "role": "MEMBER" }),
    )
    .await;
    assert_eq!(
        app.error_code(
            Some(&owner.token),
            UPDATE,
            json!({ "id": own_id, "role": "ADMIN" })
        )
        .await,
        "CONFLICT"
    );
    assert_eq!(
        app.error_code(Some(&owner.token), REMOVE, json!({ "id": own_id }))
            .await,
        "CONFLICT"
    );
}

/// Two owners demoting or removing each other at the same moment: one
/// wins, the other finds the last owner it would take away.
#[tokio::test]
async fn two_owners_demoting_each_other_at_once_leave_one_owner() {
    // Connections enough for both changes to run at once.
    let app = spawn_app_with(&["--database-max-connections", "16"]).await;
    for round in 0..12 {
        let first = app.register(&format!("first-{round}")).await;
        let (second, second_id) = app
            .add_member(&first, &format!("second-{round}"), "OWNER")
            .await;
        let first_id = membership_id(&app, &first).await;
        // Both callers known to the server, so neither request waits on
        // reading its session while the other runs.
        app.ok(Some(&second.token), "{ me { role } }", json!({}))
            .await;
        let (query, a, b) = match round % 2 {
            0 => (
                UPDATE,
                json!({ "id": second_id, "role": "MEMBER" }),
                json!({ "id": first_id, "role": "MEMBER" }),
            ),
            _ => (
                REMOVE,
                json!({ "id": second_id }),
                json!({ "id": first_id }),
            ),
        };
        let ((_, a), (_, b)) = tokio::join!(
            app.graphql(Some(&first.token), query, a),
            app.graphql(Some(&second.token), query, b)
        );
        let failed: Vec<String> = [&a, &b].into_iter().filter_map(code_of).collect();
        assert_eq!(failed.len(), 1, "round {round}: one wins: {a} {b}");
        assert!(
            ["CONFLICT", "FORBIDDEN", "UNAUTHENTICATED"].contains(&failed[0].as_str()),
            "round {round}: {a} {b}"
        );
        let owners = app
            .count_where(
                "memberships",
                &format!(
                    "organization_id = '{}' AND role = 'owner'",
                    first.organization_id
                ),
            )
            .await;
        assert_eq!(owners, 1, "round {round}: {a} {b}");
    }
}

#[tokio::test]
async fn unknown_member_ids_are_not_found() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    for id in ["0190b5f2-0000-7000-8000-000000000000", "not-a-uuid"] {
        let code = app
            .error_code(
                Some(&owner.token),
                UPDATE,
                json!({ "id": id, "role": "ADMIN" }),
            )
            .await;
        assert_eq!(code, "NOT_FOUND");
    }
}

#[tokio::test]
async fn member_changes_emit_events_with_current_and_previous_values() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let (bob, bob_id) = app.add_member(&owner, "bob", "MEMBER").await;
    app.ok(
        Some(&owner.token),
        UPDATE,
        json!({ "id": bob_id, "role": "ADMIN" }),
    )
    .await;
    app.ok(Some(&owner.token), REMOVE, json!({ "id": bob_id }))
        .await;

    let data = app.ok(Some(&owner.token), EVENTS, json!({})).await;
    let events = data["events"]["edges"].as_array().unwrap();
    let types: Vec<_> = events
        .iter()
        .map(|e| e["node"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["MEMBER_REMOVED", "MEMBER_ROLE_CHANGED", "MEMBER_ADDED"],
        "newest first"
    );

    let added = &events[2]["node"];
    assert_eq!(added["actorId"], owner.user_id.as_str());
    assert_eq!(added["currentValue"]["id"], bob_id.as_str());
    assert_eq!(added["currentValue"]["user"]["id"], bob.user_id.as_str());
    assert_eq!(
        added["currentValue"]["company"]["id"],
        owner.organization_id.as_str()
    );
    assert!(added["previousValue"].is_null());

    let changed = &events[1]["node"];
    assert_eq!(changed["previousValue"]["role"], "MEMBER");
    assert_eq!(changed["currentValue"]["role"], "ADMIN");

    let filtered = app
        .ok(
            Some(&owner.token),
            EVENTS,
            json!({ "types": ["MEMBER_ADDED"] }),
        )
        .await;
    assert_eq!(filtered["events"]["totalCount"], 1);
}

#[tokio::test]
async fn members_page_with_first_and_after() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    for label in ["a", "b", "c"] {
        app.add_member(&owner, label, "MEMBER").await;
    }
    let query = "query($after: String) { members(first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { user { name } } } } }";
    let first = app.ok(Some(&owner.token), query, json!({})).await;
    assert_eq!(first["members"]["totalCount"], 4);
    assert_eq!(first["members"]["pageInfo"]["hasNextPage"], true);
    let cursor = first["members"]["pageInfo"]["endCursor"].clone();
    let second = app
        .ok(Some(&owner.token), query, json!({ "after": cursor }))
        .await;
    let names: Vec<_> = second["members"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["user"]["name"].clone())
        .collect();
    assert_eq!(names, [json!("c")]);
    assert_eq!(second["members"]["pageInfo"]["hasNextPage"], false);
}
