//! The JSON each workspace object takes in event payloads and webhooks:
//! camelCase, with its parents nested as in Blue's example
//! (todo → todoList → project → company).

use entity::{
    checklist, checklist_item, comment, conference_room, message, organization, page, project,
    quick_call, reservation, todo, todo_list,
};
use serde_json::{Value, json};

use super::views::company_json;

pub fn project_json(p: &project::Model, org: &organization::Model) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "kind": p.kind.to_uppercase(),
        "archived": p.archived,
        "isPublic": p.is_public,
        "isMessageThread": p.is_message_thread,
        "createdById": p.created_by_id,
        "adminUserId": p.admin_user_id,
        "companyId": p.organization_id,
        "createdAt": p.created_at,
        "updatedAt": p.updated_at,
        "company": company_json(org),
    })
}

pub fn message_json(m: &message::Model, project: Value) -> Value {
    json!({
        "id": m.id,
        "text": m.text,
        "authorUserId": m.author_user_id,
        "authorIntegrationId": m.author_integration_id,
        "authorName": m.author_name,
        "mentions": m.mentions,
        "sealed": m.sealed,
        "projectId": m.project_id,
        "createdAt": m.created_at,
        "updatedAt": m.updated_at,
        "project": project,
    })
}

pub fn page_json(p: &page::Model, project: Value) -> Value {
    json!({
        "id": p.id,
        "title": p.title,
        "body": p.body,
        "createdById": p.created_by_id,
        "projectId": p.project_id,
        "createdAt": p.created_at,
        "updatedAt": p.updated_at,
        "project": project,
    })
}

pub fn todo_list_json(l: &todo_list::Model, project: Value) -> Value {
    json!({
        "id": l.id,
        "title": l.title,
        "position": l.position,
        "createdById": l.created_by_id,
        "projectId": l.project_id,
        "createdAt": l.created_at,
        "updatedAt": l.updated_at,
        "project": project,
    })
}

/// A todo as Blue sends it, with assignees, tags and its list nested.
pub fn todo_json(
    t: &todo::Model,
    assignee_ids: &[String],
    tags: &[String],
    todo_list: Value,
) -> Value {
    json!({
        "id": t.id,
        "title": t.title,
        "html": t.html,
        "text": t.text,
        "position": t.position.to_string(),
        "archived": t.archived,
        "done": t.done,
        "startedAt": t.started_at,
        "duedAt": t.dued_at,
        "timezone": null,
        "createdAt": t.created_at,
        "updatedAt": t.updated_at,
        "createdById": t.created_by_id,
        "todoListId": t.todo_list_id,
        "todoCustomFields": [],
        "todoUsers": assignee_ids.iter().map(|id| json!({ "userId": id })).collect::<Vec<_>>(),
        "todoTags": tags.iter().map(|tag| json!({ "tag": tag })).collect::<Vec<_>>(),
        "todoList": todo_list,
    })
}

pub fn checklist_json(c: &checklist::Model, todo: Value) -> Value {
    json!({
        "id": c.id,
        "title": c.title,
        "position": c.position,
        "todoId": c.todo_id,
        "createdById": c.created_by_id,
        "createdAt": c.created_at,
        "updatedAt": c.updated_at,
        "todo": todo,
    })
}

pub fn checklist_item_json(i: &checklist_item::Model, checklist: Value) -> Value {
    json!({
        "id": i.id,
        "title": i.title,
        "done": i.done,
        "position": i.position,
        "checklistId": i.checklist_id,
        "createdById": i.created_by_id,
        "createdAt": i.created_at,
        "updatedAt": i.updated_at,
        "checklist": checklist,
    })
}

pub fn comment_json(c: &comment::Model, todo: Value) -> Value {
    json!({
        "id": c.id,
        "text": c.text,
        "html": c.html,
        "todoId": c.todo_id,
        "createdById": c.created_by_id,
        "createdAt": c.created_at,
        "updatedAt": c.updated_at,
        "todo": todo,
    })
}

pub fn conference_room_json(r: &conference_room::Model, org: &organization::Model) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "capacity": r.capacity,
        "companyId": r.organization_id,
        "createdAt": r.created_at,
        "updatedAt": r.updated_at,
        "company": company_json(org),
    })
}

pub fn reservation_json(r: &reservation::Model, room: Value) -> Value {
    json!({
        "id": r.id,
        "title": r.title,
        "startsAt": r.starts_at,
        "endsAt": r.ends_at,
        "conferenceRoomId": r.conference_room_id,
        "createdById": r.created_by_id,
        "createdAt": r.created_at,
        "conferenceRoom": room,
    })
}

pub fn quick_call_json(q: &quick_call::Model, org: &organization::Model) -> Value {
    json!({
        "id": q.id,
        "hasPassword": q.password_hash.is_some(),
        "expiresAt": q.expires_at,
        "createdById": q.created_by_id,
        "createdAt": q.created_at,
        "company": company_json(org),
    })
}
