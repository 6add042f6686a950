use serde_json::json;

use crate::helpers::*;

const ADD: &str = "mutation($input: AddMemberInput!) { addMember(input: $input) { id email role status organization { id } token } }";
const ACCEPT: &str = "mutation($id: ID!, $t: String!) { acceptInvitation(id: $id, token: $t) { token organization { id } role } }";
const PENDING: &str = "{ invitations { totalCount edges { node { id email role status } } } }";
const REVOKE: &str = "mutation($id: ID!) { revokeInvitation(id: $id) { id status } }";

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

/// Adding a person by e-mail invites them: an admin of another
/// organization learns nothing about their account and cannot attach it;
/// only they can accept, signed in, with the token the admin passes on.
#[tokio::test]
async fn adding_a_member_invites_them_and_only_they_can_accept() {
    let app = spawn_app().await;
    let (alice_email, alice) = app.person("alice").await;
    let other = app.register("other-admin").await;
    let nobody = unique_email("nobody");

    // A registered and an unknown e-mail get the same answer, which says
    // nothing about any account.
    let known = app
        .ok(
            Some(&other.token),
            ADD,
            json!({ "input": { "email": alice_email, "role": "MEMBER" } }),
        )
        .await["addMember"]
        .clone();
    let unknown = app
        .ok(
            Some(&other.token),
            ADD,
            json!({ "input": { "email": nobody, "role": "OWNER" } }),
        )
        .await["addMember"]
        .clone();
    for (answer, email) in [(&known, &alice_email), (&unknown, &nobody)] {
        let keys: Vec<_> = answer.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            ["email", "id", "organization", "role", "status", "token"],
            "{answer}"
        );
        assert_eq!(answer["email"], email.as_str());
        assert_eq!(answer["status"], "PENDING");
        assert_eq!(answer["organization"]["id"], other.organization_id.as_str());
        assert!(
            answer["token"].as_str().is_some_and(|t| t.len() >= 32),
            "{answer}"
        );
    }
    // Nothing attached yet; the list shows no token.
    let members = app
        .ok(Some(&other.token), "{ members { totalCount } }", json!({}))
        .await;
    assert_eq!(members["members"]["totalCount"], 1);
    let pending = app.ok(Some(&other.token), PENDING, json!({})).await;
    assert_eq!(pending["invitations"]["totalCount"], 2);

    // Nobody else may accept it, nor can its inviter, even with the token;
    // nor Alice without it.
    let (_, mallory) = app.person("mallory").await;
    let with_token = json!({ "id": known["id"], "t": known["token"] });
    for token in [&mallory, &other.token] {
        assert_eq!(
            app.error_code(Some(token), ACCEPT, with_token.clone())
                .await,
            "NOT_FOUND"
        );
    }
    let guessed = json!({ "id": known["id"], "t": "a-guessed-token-of-the-right-length-00" });
    assert_eq!(
        app.error_code(Some(&alice), ACCEPT, guessed).await,
        "NOT_FOUND"
    );

    // Whoever registers an invited address after the invitation cannot
    // join without its token.
    let squatter = app
        .ok(
            None,
            "mutation($input: RegisterInput!) { register(input: $input) { token } }",
            json!({ "input": { "email": nobody, "name": "Squatter", "password": PASSWORD, "organizationName": "S" } }),
        )
        .await["register"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let no_token = json!({ "id": unknown["id"], "t": "" });
    assert_eq!(
        app.error_code(Some(&squatter), ACCEPT, no_token).await,
        "NOT_FOUND"
    );

    // Alice accepts with the token.
    let joined = app.ok(Some(&alice), ACCEPT, with_token.clone()).await;
    assert_eq!(
        joined["acceptInvitation"]["organization"]["id"],
        other.organization_id.as_str()
    );
    assert_eq!(joined["acceptInvitation"]["role"], "MEMBER");
    let token = joined["acceptInvitation"]["token"].as_str().unwrap();
    let me = app.ok(Some(token), ME, json!({})).await;
    assert_eq!(
        me["me"]["organization"]["id"],
        other.organization_id.as_str()
    );
    assert_eq!(me["me"]["role"], "MEMBER");
    // Once only.
    assert_eq!(
        app.error_code(Some(&alice), ACCEPT, with_token).await,
        "NOT_FOUND"
    );
    // Now a member: inviting her again is a conflict.
    let again = json!({ "input": { "email": alice_email, "role": "ADMIN" } });
    assert_eq!(
        app.error_code(Some(&other.token), ADD, again).await,
        "CONFLICT"
    );
}

#[tokio::test]
async fn a_pending_invitation_can_be_revoked_and_then_not_accepted() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let (email, invitee) = app.person("invitee").await;
    let invited = app
        .ok(
            Some(&owner.token),
            ADD,
            json!({ "input": { "email": email, "role": "ADMIN" } }),
        )
        .await;
    let id = invited["addMember"]["id"].clone();
    let revoked = app
        .ok(Some(&owner.token), REVOKE, json!({ "id": id }))
        .await;
    assert_eq!(revoked["revokeInvitation"]["status"], "REVOKED");
    let pending = app.ok(Some(&owner.token), PENDING, json!({})).await;
    assert_eq!(pending["invitations"]["totalCount"], 0);
    assert_eq!(
        app.error_code(
            Some(&invitee),
            ACCEPT,
            json!({ "id": id, "t": invited["addMember"]["token"] })
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.error_code(Some(&owner.token), REVOKE, json!({ "id": id }))
            .await,
        "CONFLICT"
    );
    // Another organization's admin cannot see or revoke it.
    let stranger = app.register("stranger").await;
    assert_eq!(
        app.error_code(Some(&stranger.token), REVOKE, json!({ "id": id }))
            .await,
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn a_member_cannot_use_admin_mutations_and_nothing_changes() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let (bob, bob_id) = app.add_member(&owner, "bob", "MEMBER").await;
    let memberships = app.count_rows("memberships").await;

    let add = json!({ "input": { "email": unique_email("eve"), "role": "MEMBER" } });
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

    // Made by bob, accepting his invitation.
    let added = &events[2]["node"];
    assert_eq!(added["actorId"], bob.user_id.as_str());
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
