//! Who sees and manages what in the workspace, and the read side.

use serde_json::{Value, json};

use crate::helpers::*;

async fn create_project(
    app: &TestApp,
    who: &Session,
    name: &str,
    public: bool,
    members: &[&str],
) -> String {
    let data = app
        .ok(
            Some(&who.token),
            "mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }",
            json!({ "i": { "name": name, "isPublic": public, "memberIds": members } }),
        )
        .await;
    data["createProject"]["id"].as_str().unwrap().to_owned()
}

async fn project_names(app: &TestApp, who: &Session) -> Vec<String> {
    let data = app
        .ok(
            Some(&who.token),
            "{ projects { edges { node { name } } } }",
            json!({}),
        )
        .await;
    data["projects"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn private_rooms_are_for_members_and_admins_direct_ones_for_members_only() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let (bob, _) = app.add_member(&owner, "bob", "MEMBER").await;
    let (carol, _) = app.add_member(&owner, "carol", "MEMBER").await;
    create_project(&app, &owner, "public", true, &[]).await;
    let private = create_project(&app, &owner, "private", false, &[&bob.user_id]).await;
    let direct = app
        .ok(
            Some(&bob.token),
            "mutation($u: [ID!]!) { openDirectConversation(userIds: $u) { id kind } }",
            json!({ "u": [carol.user_id] }),
        )
        .await;
    assert_eq!(direct["openDirectConversation"]["kind"], "DIRECT");
    let direct = direct["openDirectConversation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(project_names(&app, &owner).await, ["public", "private"]);
    assert_eq!(project_names(&app, &bob).await.len(), 3);
    assert_eq!(
        project_names(&app, &carol).await.len(),
        2,
        "public + her direct conversation"
    );

    let read = "query($id: ID!) { project(id: $id) { name } }";
    assert_eq!(
        app.error_code(Some(&carol.token), read, json!({ "id": private }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.error_code(Some(&owner.token), read, json!({ "id": direct }))
            .await,
        "NOT_FOUND"
    );
    app.ok(Some(&carol.token), read, json!({ "id": direct }))
        .await;

    // The same rule guards what is inside: a todo goes into the private
    // room's list for its member, not for anyone else in the organization.
    let list = app.create_todo_list(&owner, &private).await;
    let add = "mutation($l: ID!) { createTodo(input: {todoListId: $l, title: \"T\"}) { id } }";
    assert_eq!(
        app.error_code(Some(&carol.token), add, json!({ "l": list }))
            .await,
        "NOT_FOUND"
    );
    app.ok(Some(&bob.token), add, json!({ "l": list })).await;

    // Opening the same conversation again finds it.
    let again = app
        .ok(
            Some(&carol.token),
            "mutation($u: [ID!]!) { openDirectConversation(userIds: $u) { id } }",
            json!({ "u": [bob.user_id] }),
        )
        .await;
    assert_eq!(again["openDirectConversation"]["id"], direct.as_str());
}

#[tokio::test]
async fn only_the_project_admin_or_an_org_admin_manages_a_project() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let (bob, _) = app.add_member(&owner, "bob", "MEMBER").await;
    let (carol, _) = app.add_member(&owner, "carol", "MEMBER").await;
    let project = create_project(&app, &bob, "bob's", true, &[]).await;

    let delete = "mutation($id: ID!) { deleteProject(id: $id) { id } }";
    let add = "mutation($p: ID!, $u: ID!) { addProjectMember(projectId: $p, userId: $u) { id } }";
    assert_eq!(
        app.error_code(Some(&carol.token), delete, json!({ "id": project }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.error_code(
            Some(&carol.token),
            add,
            json!({ "p": project, "u": carol.user_id })
        )
        .await,
        "FORBIDDEN"
    );
    // Any member who sees it may still work in it.
    app.ok(
        Some(&carol.token),
        "mutation($p: ID!) { postMessage(projectId: $p, input: {text: \"hi\"}) { id } }",
        json!({ "p": project }),
    )
    .await;
    app.ok(
        Some(&bob.token),
        add,
        json!({ "p": project, "u": carol.user_id }),
    )
    .await;
    assert_eq!(
        app.error_code(
            Some(&bob.token),
            add,
            json!({ "p": project, "u": carol.user_id })
        )
        .await,
        "CONFLICT"
    );
    app.ok(Some(&owner.token), delete, json!({ "id": project }))
        .await;
}

#[tokio::test]
async fn another_organizations_ids_are_not_found() {
    let app = spawn_app().await;
    let acme = app.register("acme").await;
    let globex = app.register("globex").await;
    let project = create_project(&app, &acme, "secret", true, &[]).await;
    let list = app
        .ok(
            Some(&acme.token),
            "mutation($p: ID!) { createTodoList(projectId: $p, title: \"L\") { id } }",
            json!({ "p": project }),
        )
        .await;
    let list = list["createTodoList"]["id"].as_str().unwrap().to_owned();
    let todo = app
        .ok(
            Some(&acme.token),
            "mutation($l: ID!) { createTodo(input: {todoListId: $l, title: \"T\"}) { id } }",
            json!({ "l": list }),
        )
        .await;
    let todo = todo["createTodo"]["id"].as_str().unwrap().to_owned();

    for (query, vars) in [
        (
            "query($id: ID!) { project(id: $id) { id } }",
            json!({ "id": project }),
        ),
        (
            "query($id: ID!) { todo(id: $id) { id } }",
            json!({ "id": todo }),
        ),
        (
            "mutation($id: ID!) { updateTodo(id: $id, input: {title: \"x\"}) { id } }",
            json!({ "id": todo }),
        ),
        (
            "mutation($id: ID!) { deleteTodo(id: $id) { id } }",
            json!({ "id": todo }),
        ),
        (
            "mutation($l: ID!) { createTodo(input: {todoListId: $l, title: \"x\"}) { id } }",
            json!({ "l": list }),
        ),
        (
            "mutation($p: ID!) { postMessage(projectId: $p, input: {text: \"x\"}) { id } }",
            json!({ "p": project }),
        ),
        (
            "mutation($id: ID!) { deleteProject(id: $id) { id } }",
            json!({ "id": project }),
        ),
    ] {
        assert_eq!(
            app.error_code(Some(&globex.token), query, vars).await,
            "NOT_FOUND",
            "{query}"
        );
    }
    assert!(project_names(&app, &globex).await.is_empty());
}

/// Updates a todo with `input`, then comments on it ("c").
async fn update_and_comment(app: &TestApp, who: &Session, id: &str, input: Value) {
    app.ok(
        Some(&who.token),
        "mutation($id: ID!, $i: UpdateTodoInput!) { updateTodo(id: $id, input: $i) { id } }",
        json!({ "id": id, "i": input }),
    )
    .await;
    app.ok(
        Some(&who.token),
        "mutation($id: ID!) { createComment(todoId: $id, text: \"c\") { id } }",
        json!({ "id": id }),
    )
    .await;
}

#[tokio::test]
async fn todos_filter_by_list_done_assignee_and_due_date_with_nested_fields() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let (bob, _) = app.add_member(&owner, "bob", "MEMBER").await;
    let project = create_project(&app, &owner, "P", true, &[]).await;
    let mut lists = Vec::new();
    for title in ["A", "B"] {
        let data = app.ok(Some(&owner.token), "mutation($p: ID!, $t: String!) { createTodoList(projectId: $p, title: $t) { id } }", json!({ "p": project, "t": title })).await;
        lists.push(data["createTodoList"]["id"].as_str().unwrap().to_owned());
    }
    let create = "mutation($i: CreateTodoInput!) { createTodo(input: $i) { id } }";
    for (i, list) in [&lists[0], &lists[0], &lists[1]].into_iter().enumerate() {
        let input = json!({ "todoListId": list, "title": format!("t{i}"), "assigneeIds": if i == 1 { vec![bob.user_id.clone()] } else { vec![] }, "duedAt": format!("2030-01-0{}T00:00:00Z", i + 1) });
        let todo = app
            .ok(Some(&owner.token), create, json!({ "i": input }))
            .await;
        if i == 2 {
            let id = todo["createTodo"]["id"].as_str().unwrap();
            update_and_comment(&app, &owner, id, json!({ "done": true })).await;
        }
    }
    let query = "query($p: ID!, $l: ID, $d: Boolean, $a: ID, $due: DateTime) { project(id: $p) { todos(todoListId: $l, done: $d, assigneeId: $a, dueBefore: $due) { totalCount edges { node { title assignees { id name } todoList { title } comments { text author { id } } } } } } }";
    let titles = |v: &Value| -> Vec<String> {
        v["project"]["todos"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = app
        .ok(Some(&owner.token), query, json!({ "p": project }))
        .await;
    // Position order across lists: t0 and t2 head their lists, t1 follows t0.
    assert_eq!(titles(&all), ["t0", "t2", "t1"]);
    assert_eq!(all["project"]["todos"]["totalCount"], 3);
    assert_eq!(
        titles(
            &app.ok(
                Some(&owner.token),
                query,
                json!({ "p": project, "l": lists[0] })
            )
            .await
        ),
        ["t0", "t1"]
    );
    assert_eq!(
        titles(
            &app.ok(
                Some(&owner.token),
                query,
                json!({ "p": project, "d": true })
            )
            .await
        ),
        ["t2"]
    );
    let assigned = app
        .ok(
            Some(&owner.token),
            query,
            json!({ "p": project, "a": bob.user_id }),
        )
        .await;
    assert_eq!(titles(&assigned), ["t1"]);
    assert_eq!(
        assigned["project"]["todos"]["edges"][0]["node"]["assignees"][0]["name"],
        "bob"
    );
    assert_eq!(
        titles(
            &app.ok(
                Some(&owner.token),
                query,
                json!({ "p": project, "due": "2030-01-02T12:00:00Z" })
            )
            .await
        ),
        ["t0", "t1"]
    );
    let done = app
        .ok(
            Some(&owner.token),
            query,
            json!({ "p": project, "d": true }),
        )
        .await;
    let node = &done["project"]["todos"]["edges"][0]["node"];
    assert_eq!(node["todoList"]["title"], "B");
    assert_eq!(node["comments"][0]["text"], "c");
    assert_eq!(node["comments"][0]["author"]["id"], owner.user_id.as_str());
}

#[tokio::test]
async fn sealed_messages_collect_read_receipts() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let (bob, _) = app.add_member(&owner, "bob", "MEMBER").await;
    let project = create_project(&app, &owner, "P", true, &[]).await;
    let post = "mutation($p: ID!, $s: Boolean!) { postMessage(projectId: $p, input: {text: \"read me\", sealed: $s}) { id } }";
    let sealed = app
        .ok(Some(&owner.token), post, json!({ "p": project, "s": true }))
        .await;
    let sealed = sealed["postMessage"]["id"].as_str().unwrap().to_owned();
    let open = app
        .ok(
            Some(&owner.token),
            post,
            json!({ "p": project, "s": false }),
        )
        .await;
    let open = open["postMessage"]["id"].as_str().unwrap().to_owned();

    let read = "mutation($id: ID!) { markMessageRead(id: $id) { userId readAt } }";
    let first = app
        .ok(Some(&bob.token), read, json!({ "id": sealed }))
        .await;
    let second = app
        .ok(Some(&bob.token), read, json!({ "id": sealed }))
        .await;
    assert_eq!(first, second, "reading twice keeps the first receipt");
    assert_eq!(
        app.error_code(Some(&bob.token), read, json!({ "id": open }))
            .await,
        "BAD_USER_INPUT"
    );

    let messages = app
        .ok(Some(&owner.token), "query($p: ID!) { project(id: $p) { messages { edges { node { text sealed author { id } readBy { userId } } } } } }", json!({ "p": project }))
        .await;
    let first = &messages["project"]["messages"]["edges"][0]["node"];
    assert_eq!(first["sealed"], true);
    assert_eq!(first["author"]["id"], owner.user_id.as_str());
    assert_eq!(first["readBy"], json!([{ "userId": bob.user_id }]));
}

#[tokio::test]
async fn quick_calls_expire_and_check_their_password() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let create = "mutation($e: DateTime!, $p: String) { createQuickCall(expiresAt: $e, password: $p) { url hasPassword } }";
    assert_eq!(
        app.error_code(
            Some(&owner.token),
            create,
            json!({ "e": "2001-01-01T00:00:00Z" })
        )
        .await,
        "BAD_USER_INPUT"
    );
    let call = app
        .ok(
            Some(&owner.token),
            create,
            json!({ "e": "2099-01-01T00:00:00Z", "p": "password!" }),
        )
        .await;
    assert_eq!(call["createQuickCall"]["hasPassword"], true);
    let url = call["createQuickCall"]["url"].as_str().unwrap();
    let token = url.rsplit('/').next().unwrap();
    let join =
        "mutation($t: String!, $p: String) { joinQuickCall(token: $t, password: $p) { url } }";
    assert_eq!(
        app.error_code(None, join, json!({ "t": token, "p": "wrong" }))
            .await,
        "UNAUTHENTICATED"
    );
    let joined = app
        .ok(None, join, json!({ "t": token, "p": "password!" }))
        .await;
    assert_eq!(joined["joinQuickCall"]["url"], url);
    assert_eq!(
        app.error_code(None, join, json!({ "t": "nope" })).await,
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn a_quick_call_password_takes_a_bounded_number_of_guesses() {
    let app = spawn_app_with(&["--login-max-failures", "2"]).await;
    let owner = app.register("owner").await;
    let call = app
        .ok(
            Some(&owner.token),
            "mutation($p: String) { createQuickCall(expiresAt: \"2099-01-01T00:00:00Z\", password: $p) { url } }",
            json!({ "p": "password!" }),
        )
        .await;
    let token = call["createQuickCall"]["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let join =
        "mutation($t: String!, $p: String) { joinQuickCall(token: $t, password: $p) { url } }";
    for (password, expected) in [
        ("wrong", "UNAUTHENTICATED"),
        ("wrong", "UNAUTHENTICATED"),
        ("password!", "TOO_MANY_REQUESTS"),
    ] {
        let code = app
            .error_code(None, join, json!({ "t": token, "p": password }))
            .await;
        assert_eq!(code, expected);
    }
}

#[tokio::test]
async fn a_list_of_todos_gives_every_field_its_stored_value_whatever_else_is_asked() {
    // A project's todos are read with only the columns their selected
    // fields need; each field must still come back as stored.
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let project = create_project(&app, &owner, "P", true, &[]).await;
    let list = app.create_todo_list(&owner, &project).await;
    let input = json!({
        "todoListId": list, "title": "Write the spec", "text": "every *field*",
        "html": "<p>every <em>field</em></p>", "startedAt": "2030-01-01T09:00:00Z",
        "duedAt": "2030-01-02T17:00:00Z", "assigneeIds": [owner.user_id], "tags": ["spec"],
    });
    let created = app
        .ok(
            Some(&owner.token),
            "mutation($i: CreateTodoInput!) { createTodo(input: $i) { id } }",
            json!({ "i": input }),
        )
        .await;
    let id = created["createTodo"]["id"].as_str().unwrap().to_owned();
    let input = json!({ "done": true, "archived": true });
    update_and_comment(&app, &owner, &id, input).await;

    let fields = [
        "id",
        "projectId",
        "todoListId",
        "todoList { id title }",
        "title",
        "text",
        "html",
        "position",
        "done",
        "archived",
        "startedAt",
        "duedAt",
        "createdById",
        "createdAt",
        "updatedAt",
        "assignees { id name }",
        "tags",
        "comments { text }",
        "checklists { id }",
        "__typename",
    ];
    // The same todo read whole, by its id.
    let whole = app
        .ok(
            Some(&owner.token),
            &format!(
                "query($id: ID!) {{ todo(id: $id) {{ {} }} }}",
                fields.join(" ")
            ),
            json!({ "id": id }),
        )
        .await;
    let whole = &whole["todo"];
    assert_eq!(whole["text"], "every *field*");
    assert_eq!(whole["archived"], true);
    assert_eq!(whole["todoList"]["id"], list.as_str());

    for field in fields {
        let name = field.split(' ').next().unwrap();
        // Alone, through edges, nodes, a fragment and an inline fragment.
        let list =
            |s: String| format!("query($p: ID!) {{ project(id: $p) {{ todos {{ {s} }} }} }}");
        for query in [
            list(format!("edges {{ cursor node {{ {field} }} }}")),
            list(format!("nodes {{ {field} }}")),
            list("nodes { ...F }".into()) + &format!(" fragment F on Todo {{ {field} }}"),
            list(format!("edges {{ node {{ ... on Todo {{ {field} }} }} }}")),
        ] {
            let data = app
                .ok(Some(&owner.token), &query, json!({ "p": project }))
                .await;
            let todos = &data["project"]["todos"];
            let node = match todos["nodes"].is_null() {
                true => &todos["edges"][0]["node"],
                false => &todos["nodes"][0],
            };
            assert_eq!(node[name], whole[name], "{query}");
        }
    }

    // Cursors of a partial read page on as a whole one's do.
    let second = app
        .ok(
            Some(&owner.token),
            "mutation($l: ID!) { createTodo(input: {todoListId: $l, title: \"second\"}) { id } }",
            json!({ "l": list }),
        )
        .await;
    let page = "query($p: ID!, $a: String) { project(id: $p) { todos(first: 1, after: $a) { edges { cursor node { id } } pageInfo { hasNextPage } } } }";
    let first = app
        .ok(Some(&owner.token), page, json!({ "p": project }))
        .await;
    let todos = &first["project"]["todos"];
    assert_eq!(todos["edges"][0]["node"]["id"], id.as_str());
    assert_eq!(todos["pageInfo"]["hasNextPage"], true);
    let cursor = todos["edges"][0]["cursor"].as_str().unwrap();
    let next = app
        .ok(
            Some(&owner.token),
            page,
            json!({ "p": project, "a": cursor }),
        )
        .await;
    let todos = &next["project"]["todos"];
    assert_eq!(todos["edges"][0]["node"]["id"], second["createTodo"]["id"]);
    assert_eq!(todos["pageInfo"]["hasNextPage"], false);
}
