//! Chat&Messenger's API (seed 001) at the root, authenticated by the
//! `x-cam-apiToken` header. Arguments come as the seed's curl samples send
//! them (`message=<json>` with `-d`, raw or URL-encoded; `messages=[…]`
//! from a file) or as plain JSON. Errors come back under `errors`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{TimeZone, Utc};
use entity::project;
use serde::Deserialize;
use serde_json::{Value, json};

use super::caller;
use crate::{
    domain::{
        messenger,
        messenger::{ChatRoomInput, Outgoing, Sent},
        quick_calls,
    },
    error::{AppError, AppResult, ErrorList},
    http::{read_limited, resource},
    state::AppState,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/sendMessage", "POST").route(web::post().to(send_message)))
        .service(resource("/sendMessages", "POST").route(web::post().to(send_messages)))
        .service(resource("/createQuickCall", "POST").route(web::post().to(create_quick_call)))
        .service(resource("/updateChatRoom", "POST").route(web::post().to(update_chat_room)));
}

/// The call's argument `field`: `field=<json>` (raw, as `curl -d` sends
/// it, or URL-encoded), a JSON body (the argument itself or under
/// `field`), or other form fields as an object. `None` for an empty body.
pub fn argument(body: &[u8], field: &str) -> AppResult<Option<Value>> {
    let text = std::str::from_utf8(body)
        .map_err(|_| AppError::MalformedRequest("the body is not UTF-8".into()))?
        .trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = |e: serde_json::Error| {
        AppError::MalformedRequest(format!("`{field}` is not valid JSON: {e}"))
    };
    if let Some(raw) = text.strip_prefix(&format!("{field}=")) {
        if let Ok(value) = serde_json::from_str(raw) {
            return Ok(Some(value));
        }
        let decoded = url::form_urlencoded::parse(text.as_bytes())
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        return serde_json::from_str(&decoded).map(Some).map_err(bad);
    }
    if text.starts_with(['{', '[', '"']) {
        let value: Value = serde_json::from_str(text).map_err(bad)?;
        // `{"message": {...}}` wraps the argument; `{"message": "Hi", …}`
        // (sendMessage's own text field) is the argument itself.
        let wrapped = match value.get(field) {
            Some(inner @ (Value::Object(_) | Value::Array(_))) => Some(inner.clone()),
            Some(Value::String(inner)) if inner.trim_start().starts_with(['{', '[']) => {
                Some(serde_json::from_str(inner).map_err(bad)?)
            }
            _ => None,
        };
        return Ok(Some(wrapped.unwrap_or(value)));
    }
    let fields: serde_json::Map<String, Value> = url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    if fields.is_empty() {
        return Err(AppError::MalformedRequest(format!(
            "expected `{field}=<json>` or a JSON body"
        )));
    }
    Ok(Some(Value::Object(fields)))
}

/// Parses the argument into `T`, `400` when it is missing or the wrong shape.
fn typed<T: serde::de::DeserializeOwned>(value: Option<Value>, field: &str) -> AppResult<T> {
    let value = value
        .ok_or_else(|| AppError::MalformedRequest(format!("the `{field}` argument is missing")))?;
    serde_json::from_value(value).map_err(|e| {
        AppError::validation(format!("`{field}` does not have the expected fields: {e}"))
    })
}

pub(super) async fn body(app: &AppState, payload: web::Payload) -> AppResult<web::Bytes> {
    read_limited(payload, &app.settings).await
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct Users {
    #[serde(default)]
    users: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct MessageArg {
    panel_name: String,
    message: String,
    #[serde(default)]
    is_opened: bool,
    #[serde(default)]
    general_purposes: Users,
}

fn sent_json(sent: &[Sent]) -> Value {
    json!(
        sent.iter()
            .map(|s| json!({ "messageId": s.message_id, "chatRoomId": s.project_id, "to": s.to }))
            .collect::<Vec<_>>()
    )
}

/// The errors a Chat&Messenger call can answer.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // describes responses; never built
pub(super) enum CamErrors {
    #[response(status = 400, description = "Missing, unreadable or invalid argument")]
    BadRequest(ErrorList),
    #[response(status = 401, description = "No or a bad x-cam-apiToken")]
    Unauthorized(ErrorList),
    #[response(status = 403, description = "Not allowed")]
    Forbidden(ErrorList),
    #[response(status = 404, description = "Not found")]
    NotFound(ErrorList),
    #[response(status = 413, description = "Body too large")]
    PayloadTooLarge(ErrorList),
}

/// Sends a message: direct messages by e-mail (`panelName: messenger`) or into a room by name. Also `message=<json>` as a form body.
#[utoipa::path(post, path = "/sendMessage", tag = "Chat&Messenger",
    request_body = MessageArg,
    responses((status = 200, description = "Done", body = Object),
        CamErrors),
    security(("cam_api_token" = []), ("bearer" = [])))]
pub(super) async fn send_message(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let who = caller(&app, &req).await?;
    let arg: MessageArg = typed(argument(&body(&app, payload).await?, "message")?, "message")?;
    let out = Outgoing {
        panel: arg.panel_name,
        text: arg.message,
        sealed: arg.is_opened,
        users: messenger::split_emails(&arg.general_purposes.users),
    };
    let sent = messenger::send(&app, &who, out).await?;
    Ok(HttpResponse::Ok().json(json!({ "result": "success", "messages": sent_json(&sent) })))
}

/// One item of `messages=[…]`: direct messages to `property.users`, or to
/// the room named by `send`.
#[derive(Deserialize)]
struct BatchItem {
    message: String,
    send: Option<String>,
    #[serde(default)]
    property: Users,
    #[serde(default, rename = "isOpened")]
    is_opened: bool,
}

/// Sends a batch (`messages=[…]` as curl -d @file sends it, or a JSON array) and reports each item.
#[utoipa::path(post, path = "/sendMessages", tag = "Chat&Messenger",
    request_body(content = Vec<Object>, description = "Items `{message, property: {users}}` or `{send, message}`; each is checked and reported on its own"),
    responses((status = 200, description = "Done", body = Object),
        CamErrors),
    security(("cam_api_token" = []), ("bearer" = [])))]
pub(super) async fn send_messages(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let who = caller(&app, &req).await?;
    let items: Vec<Value> = typed(
        argument(&body(&app, payload).await?, "messages")?,
        "messages",
    )?;
    if let Some(index) = items.iter().position(|item| !item.is_object()) {
        return Err(AppError::validation(format!(
            "`messages` item {index} is not an object"
        )));
    }
    let mut results = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let outcome = match serde_json::from_value::<BatchItem>(item) {
            Err(e) => Err(AppError::validation(format!("item {index}: {e}"))),
            Ok(item) => {
                let out = Outgoing {
                    panel: item.send.unwrap_or_else(|| messenger::MESSENGER.to_owned()),
                    text: item.message,
                    sealed: item.is_opened,
                    users: messenger::split_emails(&item.property.users),
                };
                messenger::send(&app, &who, out).await
            }
        };
        results.push(match outcome {
            Ok(sent) => {
                json!({ "index": index, "status": "success", "messages": sent_json(&sent) })
            }
            Err(e) => {
                e.log();
                json!({ "index": index, "status": "error", "errors": ErrorList::from(&e).errors })
            }
        });
    }
    Ok(HttpResponse::Ok().json(json!({ "results": results })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct QuickCallArg {
    /// Unix time in milliseconds.
    expiry: i64,
    password: Option<String>,
}

/// Creates a quick call URL expiring at `expiry` (Unix ms).
#[utoipa::path(post, path = "/createQuickCall", tag = "Chat&Messenger",
    request_body = QuickCallArg,
    responses((status = 200, description = "Done", body = Object),
        CamErrors),
    security(("cam_api_token" = []), ("bearer" = [])))]
pub(super) async fn create_quick_call(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let who = caller(&app, &req).await?;
    let arg: QuickCallArg = typed(
        argument(&body(&app, payload).await?, "quickCall")?,
        "quickCall",
    )?;
    let expires_at = Utc
        .timestamp_millis_opt(arg.expiry)
        .single()
        .ok_or_else(|| AppError::validation("`expiry` is not a time in milliseconds"))?;
    let call = quick_calls::create_quick_call(&app, &who, expires_at, arg.password).await?;
    Ok(HttpResponse::Ok().json(json!({ "quickCall": {
        "url": quick_calls::call_url(&app, &call),
        "expiry": call.expires_at.timestamp_millis(),
        "hasPassword": call.password_hash.is_some(),
    }})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ChatRoomArg {
    id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    is_public: Option<bool>,
    is_message_thread: Option<bool>,
    admin_user_id: Option<String>,
    member_uids: Option<Vec<String>>,
}

fn chat_room_json(room: &project::Model, members: &[String]) -> Value {
    json!({
        "id": room.id,
        "name": room.name,
        "description": room.description,
        "createUserId": room.created_by_id,
        "adminUserId": room.admin_user_id,
        "isMessageThread": room.is_message_thread,
        "isPublic": room.is_public,
        "memberUids": members,
    })
}

/// Creates (no `id`) or updates a chat room; `chatRoom=<json>` or JSON.
#[utoipa::path(post, path = "/updateChatRoom", tag = "Chat&Messenger",
    request_body = ChatRoomArg,
    responses((status = 200, description = "Done", body = Object),
        CamErrors),
    security(("cam_api_token" = []), ("bearer" = [])))]
pub(super) async fn update_chat_room(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let who = caller(&app, &req).await?;
    let arg: ChatRoomArg = typed(
        argument(&body(&app, payload).await?, "chatRoom")?,
        "chatRoom",
    )?;
    let input = ChatRoomInput {
        id: arg.id,
        name: arg.name,
        description: arg.description,
        is_public: arg.is_public,
        is_message_thread: arg.is_message_thread,
        admin_user_id: arg.admin_user_id,
        member_uids: arg.member_uids,
    };
    let (room, members) = messenger::save_chat_room(&app, &who, input).await?;
    Ok(HttpResponse::Ok().json(json!({ "chatRoom": chat_room_json(&room, &members) })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_arguments_as_curl_and_json_send_them() {
        let want = json!({"panelName": "messenger", "message": "Hi\nthere"});
        for body in [
            r#"message={"panelName":"messenger","message":"Hi\nthere"}"#.to_owned(),
            format!(
                "message={}",
                url::form_urlencoded::byte_serialize(want.to_string().as_bytes())
                    .collect::<String>()
            ),
            want.to_string(),
            json!({ "message": want }).to_string(),
            json!({ "message": want.to_string() }).to_string(),
        ] {
            assert_eq!(
                argument(body.as_bytes(), "message").unwrap(),
                Some(want.clone()),
                "{body}"
            );
        }
        assert_eq!(argument(b"  ", "message").unwrap(), None);
        assert_eq!(
            argument(b"yyyyMMdd=201908", "x").unwrap(),
            Some(json!({"yyyyMMdd": "201908"}))
        );
        assert!(argument(b"message={broken", "message").is_err());
    }
}
