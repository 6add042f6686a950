//! Every workspace mutation emits exactly the expected events, with the
//! object (parents nested) in currentValue and the old one in previousValue.

use serde_json::{Value, json};

use crate::helpers::*;

struct Run<'a> {
    app: &'a TestApp,
    token: String,
    seen: u64,
}

impl Run<'_> {
    /// Runs a mutation, asserts the event types it emitted, returns
    /// (data, events).
    async fn step(
        &mut self,
        query: &str,
        variables: Value,
        expected: &[&str],
    ) -> (Value, Vec<Value>) {
        let data = self.app.ok(Some(&self.token), query, variables).await;
        let events = self.app.new_events(&self.token, &mut self.seen).await;
        let types: Vec<_> = events
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(types, expected, "after {query}");
        (data, events)
    }
}

fn id(data: &Value, field: &str) -> String {
    data[field]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {data}"))
        .to_owned()
}

#[tokio::test]
async fn every_mutation_emits_its_events_with_current_and_previous_values() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let (bob, _) = app.add_member(&owner, "bob", "MEMBER").await;
    let mut seen = 0;
    app.new_events(&owner.token, &mut seen).await;
    let mut run = Run {
        app: &app,
        token: owner.token.clone(),
        seen,
    };

    // Projects.
    let (data, events) = run
        .step(
            "mutation { createProject(input: {name: \"Launch\", description: \"Q3\"}) { id } }",
            json!({}),
            &["PROJECT_CREATED"],
        )
        .await;
    let project = id(&data, "createProject");
    assert_eq!(events[0]["projectId"], project.as_str());
    assert_eq!(events[0]["actorId"], owner.user_id.as_str());
    assert_eq!(events[0]["currentValue"]["name"], "Launch");
    assert_eq!(
        events[0]["currentValue"]["company"]["id"],
        owner.organization_id.as_str()
    );

    let (_, events) = run
        .step(
            "mutation($id: ID!) { updateProject(id: $id, input: {name: \"Launch v2\"}) { id } }",
            json!({ "id": project }),
            &["PROJECT_UPDATED"],
        )
        .await;
    assert_eq!(events[0]["previousValue"]["name"], "Launch");
    assert_eq!(events[0]["currentValue"]["name"], "Launch v2");

    let (_, events) = run
        .step(
            "mutation($p: ID!, $u: ID!) { addProjectMember(projectId: $p, userId: $u) { id } }",
            json!({ "p": project, "u": bob.user_id }),
            &["PROJECT_MEMBER_ADDED"],
        )
        .await;
    assert_eq!(events[0]["currentValue"]["userId"], bob.user_id.as_str());

    // Chat and pages.
    let (_, events) = run
        .step(
            "mutation($p: ID!, $m: [ID!]!) { postMessage(projectId: $p, input: {text: \"hello\\nworld\", mentions: $m}) { id } }",
            json!({ "p": project, "m": [bob.user_id] }),
            &["MESSAGE_CREATED"],
        )
        .await;
    assert_eq!(events[0]["currentValue"]["text"], "hello\nworld");
    assert_eq!(events[0]["currentValue"]["mentions"], json!([bob.user_id]));
    assert_eq!(events[0]["currentValue"]["project"]["id"], project.as_str());

    let (data, _) = run
        .step(
            "mutation($p: ID!) { createPage(projectId: $p, title: \"Notes\", body: \"b\") { id } }",
            json!({ "p": project }),
            &["PAGE_CREATED"],
        )
        .await;
    let page = id(&data, "createPage");
    let (_, events) = run
        .step(
            "mutation($id: ID!) { updatePage(id: $id, input: {title: \"Minutes\"}) { id } }",
            json!({ "id": page }),
            &["PAGE_UPDATED"],
        )
        .await;
    assert_eq!(
        (
            events[0]["previousValue"]["title"].clone(),
            events[0]["currentValue"]["title"].clone()
        ),
        (json!("Notes"), json!("Minutes"))
    );
    run.step(
        "mutation($id: ID!) { deletePage(id: $id) { id } }",
        json!({ "id": page }),
        &["PAGE_DELETED"],
    )
    .await;

    // Todo lists and todos.
    let (data, events) = run
        .step(
            "mutation($p: ID!) { createTodoList(projectId: $p, title: \"ETEST\") { id position } }",
            json!({ "p": project }),
            &["TODO_LIST_CREATED"],
        )
        .await;
    let list = id(&data, "createTodoList");
    assert_eq!(data["createTodoList"]["position"], 65535.0);
    assert_eq!(
        events[0]["currentValue"]["project"]["company"]["id"],
        owner.organization_id.as_str()
    );
    let (data, _) = run
        .step(
            "mutation($p: ID!) { createTodoList(projectId: $p, title: \"Done\") { id position } }",
            json!({ "p": project }),
            &["TODO_LIST_CREATED"],
        )
        .await;
    let other_list = id(&data, "createTodoList");
    assert_eq!(data["createTodoList"]["position"], 131070.0);
    let (_, events) = run
        .step(
            "mutation($id: ID!) { renameTodoList(id: $id, title: \"Backlog\") { id } }",
            json!({ "id": list }),
            &["TODO_LIST_NAME_CHANGED"],
        )
        .await;
    assert_eq!(events[0]["previousValue"]["title"], "ETEST");

    let (data, events) = run
        .step(
            "mutation($l: ID!, $u: ID!) { createTodo(input: {todoListId: $l, title: \"GGGG\", assigneeIds: [$u], tags: [\"urgent\"]}) { id } }",
            json!({ "l": list, "u": bob.user_id }),
            &["TODO_CREATED"],
        )
        .await;
    let todo = id(&data, "createTodo");
    let created = &events[0]["currentValue"];
    assert_eq!(created["title"], "GGGG");
    assert_eq!(created["position"], "65535");
    assert_eq!(created["done"], false);
    assert_eq!(created["todoListId"], list.as_str());
    assert_eq!(created["todoUsers"], json!([{ "userId": bob.user_id }]));
    assert_eq!(created["todoTags"], json!([{ "tag": "urgent" }]));
    assert_eq!(created["todoCustomFields"], json!([]));
    assert_eq!(created["todoList"]["id"], list.as_str());
    assert_eq!(created["todoList"]["project"]["id"], project.as_str());
    assert_eq!(
        created["todoList"]["project"]["company"]["id"],
        owner.organization_id.as_str()
    );

    let (_, events) = run
        .step(
            "mutation($id: ID!) { updateTodo(id: $id, input: {title: \"Ship it\"}) { id } }",
            json!({ "id": todo }),
            &["TODO_NAME_CHANGED"],
        )
        .await;
    assert_eq!(
        (
            events[0]["previousValue"]["title"].clone(),
            events[0]["currentValue"]["title"].clone()
        ),
        (json!("GGGG"), json!("Ship it"))
    );
    let (_, events) = run
        .step(
            "mutation($id: ID!) { updateTodo(id: $id, input: {done: true, duedAt: \"2030-01-02T03:04:05Z\", text: \"t\"}) { id } }",
            json!({ "id": todo }),
            &["TODO_TEXT_CHANGED", "TODO_DONE_STATUS_CHANGED", "TODO_DUE_DATE_CHANGED"],
        )
        .await;
    assert_eq!(events[1]["previousValue"]["done"], false);
    assert_eq!(events[1]["currentValue"]["done"], true);
    assert!(
        events[2]["currentValue"]["duedAt"]
            .as_str()
            .unwrap()
            .starts_with("2030-01-02T03:04:05")
    );
    // An update that changes nothing emits nothing.
    run.step(
        "mutation($id: ID!) { updateTodo(id: $id, input: {done: true}) { id } }",
        json!({ "id": todo }),
        &[],
    )
    .await;
    run.step(
        "mutation($id: ID!) { updateTodo(id: $id, input: {archived: true}) { id } }",
        json!({ "id": todo }),
        &["TODO_ARCHIVED_STATUS_CHANGED"],
    )
    .await;

    let (_, events) = run
        .step(
            "mutation($id: ID!, $l: ID!) { moveTodo(id: $id, todoListId: $l) { id } }",
            json!({ "id": todo, "l": other_list }),
            &["TODO_MOVED"],
        )
        .await;
    assert_eq!(events[0]["previousValue"]["todoListId"], list.as_str());
    assert_eq!(events[0]["currentValue"]["todoListId"], other_list.as_str());
    assert_eq!(events[0]["currentValue"]["todoList"]["title"], "Done");
    let (_, events) = run
        .step(
            "mutation($id: ID!) { moveTodo(id: $id, position: 32767.5) { position } }",
            json!({ "id": todo }),
            &["TODO_MOVED"],
        )
        .await;
    assert_eq!(events[0]["currentValue"]["position"], "32767.5");

    let (_, events) = run
        .step(
            "mutation($t: ID!, $u: ID!) { removeTodoAssignee(todoId: $t, userId: $u) { id } }",
            json!({ "t": todo, "u": bob.user_id }),
            &["TODO_ASSIGNEE_REMOVED"],
        )
        .await;
    assert_eq!(events[0]["currentValue"]["todoUsers"], json!([]));
    let (_, events) = run
        .step(
            "mutation($t: ID!, $u: ID!) { addTodoAssignee(todoId: $t, userId: $u) { id } }",
            json!({ "t": todo, "u": owner.user_id }),
            &["TODO_ASSIGNEE_ADDED"],
        )
        .await;
    assert_eq!(
        events[0]["currentValue"]["todoUsers"],
        json!([{ "userId": owner.user_id }])
    );
    run.step(
        "mutation($t: ID!) { addTodoTag(todoId: $t, tag: \"later\") { id } }",
        json!({ "t": todo }),
        &["TODO_TAG_ADDED"],
    )
    .await;
    run.step(
        "mutation($t: ID!) { removeTodoTag(todoId: $t, tag: \"urgent\") { id } }",
        json!({ "t": todo }),
        &["TODO_TAG_REMOVED"],
    )
    .await;

    // Checklists.
    let (data, events) = run
        .step(
            "mutation($t: ID!) { createChecklist(todoId: $t, title: \"Steps\") { id } }",
            json!({ "t": todo }),
            &["TODO_CHECKLIST_CREATED"],
        )
        .await;
    let checklist = id(&data, "createChecklist");
    assert_eq!(events[0]["currentValue"]["todo"]["id"], todo.as_str());
    run.step(
        "mutation($id: ID!) { renameChecklist(id: $id, title: \"Plan\") { id } }",
        json!({ "id": checklist }),
        &["TODO_CHECKLIST_NAME_CHANGED"],
    )
    .await;
    let (data, _) = run
        .step(
            "mutation($c: ID!) { createChecklistItem(checklistId: $c, title: \"one\") { id } }",
            json!({ "c": checklist }),
            &["TODO_CHECKLIST_ITEM_CREATED"],
        )
        .await;
    let item = id(&data, "createChecklistItem");
    let (_, events) = run
        .step(
            "mutation($id: ID!) { updateChecklistItem(id: $id, done: true) { id } }",
            json!({ "id": item }),
            &["TODO_CHECKLIST_ITEM_DONE_CHANGED"],
        )
        .await;
    assert_eq!(
        (
            events[0]["previousValue"]["done"].clone(),
            events[0]["currentValue"]["done"].clone()
        ),
        (json!(false), json!(true))
    );
    run.step(
        "mutation($id: ID!) { deleteChecklistItem(id: $id) { id } }",
        json!({ "id": item }),
        &["TODO_CHECKLIST_ITEM_DELETED"],
    )
    .await;
    run.step(
        "mutation($id: ID!) { deleteChecklist(id: $id) { id } }",
        json!({ "id": checklist }),
        &["TODO_CHECKLIST_DELETED"],
    )
    .await;

    // Comments.
    let (data, events) = run
        .step(
            "mutation($t: ID!) { createComment(todoId: $t, text: \"first\") { id } }",
            json!({ "t": todo }),
            &["COMMENT_CREATED"],
        )
        .await;
    let comment = id(&data, "createComment");
    assert_eq!(
        events[0]["currentValue"]["todo"]["todoList"]["project"]["id"],
        project.as_str()
    );
    let (_, events) = run
        .step(
            "mutation($id: ID!) { updateComment(id: $id, text: \"edited\") { id } }",
            json!({ "id": comment }),
            &["COMMENT_UPDATED"],
        )
        .await;
    assert_eq!(
        (
            events[0]["previousValue"]["text"].clone(),
            events[0]["currentValue"]["text"].clone()
        ),
        (json!("first"), json!("edited"))
    );
    run.step(
        "mutation($id: ID!) { deleteComment(id: $id) { id } }",
        json!({ "id": comment }),
        &["COMMENT_DELETED"],
    )
    .await;

    run.step(
        "mutation($id: ID!) { deleteTodo(id: $id) { id } }",
        json!({ "id": todo }),
        &["TODO_DELETED"],
    )
    .await;
    run.step(
        "mutation($id: ID!) { deleteTodoList(id: $id) { id } }",
        json!({ "id": list }),
        &["TODO_LIST_DELETED"],
    )
    .await;

    // Conference rooms, reservations, quick calls.
    let (data, _) = run
        .step(
            "mutation { createConferenceRoom(input: {name: \"Room A\", capacity: 8}) { id } }",
            json!({}),
            &["CONFERENCE_ROOM_CREATED"],
        )
        .await;
    let room = id(&data, "createConferenceRoom");
    run.step(
        "mutation($id: ID!) { updateConferenceRoom(id: $id, input: {capacity: 10}) { id } }",
        json!({ "id": room }),
        &["CONFERENCE_ROOM_UPDATED"],
    )
    .await;
    let reserve = "mutation($r: ID!, $s: DateTime!, $e: DateTime!) { reserveConferenceRoom(conferenceRoomId: $r, title: \"Standup\", startsAt: $s, endsAt: $e) { id } }";
    let (data, events) = run
        .step(
            reserve,
            json!({ "r": room, "s": "2030-05-01T09:00:00Z", "e": "2030-05-01T10:00:00Z" }),
            &["RESERVATION_CREATED"],
        )
        .await;
    let reservation = id(&data, "reserveConferenceRoom");
    assert_eq!(
        events[0]["currentValue"]["conferenceRoom"]["id"],
        room.as_str()
    );
    run.step(
        "mutation($id: ID!) { cancelReservation(id: $id) { id } }",
        json!({ "id": reservation }),
        &["RESERVATION_DELETED"],
    )
    .await;
    run.step(
        "mutation { createQuickCall(expiresAt: \"2099-01-01T00:00:00Z\") { url } }",
        json!({}),
        &["QUICK_CALL_CREATED"],
    )
    .await;
    run.step(
        "mutation($id: ID!) { deleteConferenceRoom(id: $id) { id } }",
        json!({ "id": room }),
        &["CONFERENCE_ROOM_DELETED"],
    )
    .await;

    run.step(
        "mutation($p: ID!, $u: ID!) { removeProjectMember(projectId: $p, userId: $u) { id } }",
        json!({ "p": project, "u": bob.user_id }),
        &["PROJECT_MEMBER_REMOVED"],
    )
    .await;
    let (_, events) = run
        .step(
            "mutation($id: ID!) { deleteProject(id: $id) { id } }",
            json!({ "id": project }),
            &["PROJECT_DELETED"],
        )
        .await;
    assert_eq!(events[0]["previousValue"]["name"], "Launch v2");
}

#[tokio::test]
async fn refused_mutations_emit_nothing_and_change_nothing() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let project = app
        .ok(
            Some(&owner.token),
            "mutation { createProject(input: {name: \"P\"}) { id } }",
            json!({}),
        )
        .await;
    let project = id(&project, "createProject");
    let list = app
        .ok(
            Some(&owner.token),
            "mutation($p: ID!) { createTodoList(projectId: $p, title: \"L\") { id } }",
            json!({ "p": project }),
        )
        .await;
    let list = id(&list, "createTodoList");
    let mut seen = 0;
    app.new_events(&owner.token, &mut seen).await;
    let todos = app.count_rows("todos").await;

    let create =
        "mutation($l: ID!, $t: String!) { createTodo(input: {todoListId: $l, title: $t}) { id } }";
    assert_eq!(
        app.error_code(Some(&owner.token), create, json!({ "l": list, "t": "  " }))
            .await,
        "BAD_USER_INPUT"
    );
    let unknown = "0190b5f2-0000-7000-8000-000000000000";
    assert_eq!(
        app.error_code(
            Some(&owner.token),
            create,
            json!({ "l": unknown, "t": "x" })
        )
        .await,
        "NOT_FOUND"
    );
    let bad_dates = "mutation($l: ID!) { createTodo(input: {todoListId: $l, title: \"x\", startedAt: \"2030-02-01T00:00:00Z\", duedAt: \"2030-01-01T00:00:00Z\"}) { id } }";
    assert_eq!(
        app.error_code(Some(&owner.token), bad_dates, json!({ "l": list }))
            .await,
        "BAD_USER_INPUT"
    );
    let stranger = "mutation($l: ID!) { createTodo(input: {todoListId: $l, title: \"x\", assigneeIds: [\"0190b5f2-0000-7000-8000-000000000001\"]}) { id } }";
    assert_eq!(
        app.error_code(Some(&owner.token), stranger, json!({ "l": list }))
            .await,
        "BAD_USER_INPUT"
    );

    assert_eq!(app.count_rows("todos").await, todos);
    assert!(app.new_events(&owner.token, &mut seen).await.is_empty());
}

#[tokio::test]
async fn overlapping_reservations_conflict() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let room = app
        .ok(
            Some(&owner.token),
            "mutation { createConferenceRoom(input: {name: \"A\"}) { id } }",
            json!({}),
        )
        .await;
    let room = id(&room, "createConferenceRoom");
    let reserve = "mutation($r: ID!, $s: DateTime!, $e: DateTime!) { reserveConferenceRoom(conferenceRoomId: $r, title: \"t\", startsAt: $s, endsAt: $e) { id } }";
    app.ok(
        Some(&owner.token),
        reserve,
        json!({ "r": room, "s": "2030-05-01T09:00:00Z", "e": "2030-05-01T10:00:00Z" }),
    )
    .await;
    for (s, e) in [
        ("2030-05-01T09:30:00Z", "2030-05-01T10:30:00Z"),
        ("2030-05-01T08:00:00Z", "2030-05-01T11:00:00Z"),
    ] {
        assert_eq!(
            app.error_code(
                Some(&owner.token),
                reserve,
                json!({ "r": room, "s": s, "e": e })
            )
            .await,
            "CONFLICT"
        );
    }
    // Back to back is fine; reversed times are not.
    app.ok(
        Some(&owner.token),
        reserve,
        json!({ "r": room, "s": "2030-05-01T10:00:00Z", "e": "2030-05-01T11:00:00Z" }),
    )
    .await;
    let reversed = json!({ "r": room, "s": "2030-05-02T10:00:00Z", "e": "2030-05-02T09:00:00Z" });
    assert_eq!(
        app.error_code(Some(&owner.token), reserve, reversed).await,
        "BAD_USER_INPUT"
    );
    let day = app
        .ok(Some(&owner.token), "{ reservations(from: \"2030-05-01T00:00:00Z\", to: \"2030-05-02T00:00:00Z\") { title startsAt } }", json!({}))
        .await;
    assert_eq!(day["reservations"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn new_todos_checklists_and_items_go_to_the_end_of_their_parent() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let project = app.create_project(&owner, "p").await;
    let token = Some(owner.token.as_str());
    let create = async |query: &str, vars: Value, field: &str| {
        let data = app.ok(token, query, vars).await;
        (
            data[field]["id"].as_str().unwrap().to_owned(),
            data[field]["position"].as_f64().unwrap(),
        )
    };
    let list_query =
        "mutation($p: ID!) { createTodoList(projectId: $p, title: \"L\") { id position } }";
    let todo_query =
        "mutation($l: ID!) { createTodo(input: {todoListId: $l, title: \"T\"}) { id position } }";
    let checklist_query =
        "mutation($t: ID!) { createChecklist(todoId: $t, title: \"C\") { id position } }";
    let item_query =
        "mutation($c: ID!) { createChecklistItem(checklistId: $c, title: \"I\") { id position } }";

    let (list, _) = create(list_query, json!({ "p": project }), "createTodoList").await;
    let (other, _) = create(list_query, json!({ "p": project }), "createTodoList").await;
    let (todo, first) = create(todo_query, json!({ "l": list }), "createTodo").await;
    let (second_todo, second) = create(todo_query, json!({ "l": list }), "createTodo").await;
    let (_, elsewhere) = create(todo_query, json!({ "l": other }), "createTodo").await;
    assert_eq!((first, second, elsewhere), (65535.0, 131070.0, 65535.0));

    let (checklist, first) = create(checklist_query, json!({ "t": todo }), "createChecklist").await;
    let (_, second) = create(checklist_query, json!({ "t": todo }), "createChecklist").await;
    assert_eq!((first, second), (65535.0, 131070.0));
    let (_, first) = create(item_query, json!({ "c": checklist }), "createChecklistItem").await;
    let (_, second) = create(item_query, json!({ "c": checklist }), "createChecklistItem").await;
    assert_eq!((first, second), (65535.0, 131070.0));

    // What the API answered is what it stored.
    let stored = app
        .ok(
            token,
            "query($t: ID!) { todo(id: $t) { position } }",
            json!({ "t": second_todo }),
        )
        .await;
    assert_eq!(stored["todo"]["position"], 131070.0);
}
