//! Chat&Messenger's API (seed 001) at the root, authenticated by the
//! `x-cam-apiToken` header. Arguments come as the seed's curl samples send
//! them (`message=<json>` with `-d`, raw or URL-encoded; `messages=[…]`
//! from a file) or as plain JSON. Errors come back under `errors`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use entity::{conference_room, project, reservation};
use serde::Deserialize;
use serde_json::{Value, json};

use super::caller;
use crate::{
    domain::{
        conference, messenger,
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
        .service(resource("/updateChatRoom", "POST").route(web::post().to(update_chat_room)))
        .service(
            resource("/getConferenceRooms", "GET, POST")
                .route(web::get().to(conference_rooms))
                .route(web::post().to(conference_rooms_post)),
        )
        .service(
            resource("/getConferenceMaster", "GET, POST")
                .route(web::get().to(conference_master))
                .route(web::post().to(conference_master_post)),
        )
        .service(
            resource("/getConferenceRoomStatus", "GET, POST")
                .route(web::get().to(conference_room_status))
                .route(web::post().to(conference_room_status_post)),
        );
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

async fn body(app: &AppState, payload: web::Payload) -> AppResult<web::Bytes> {
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

fn room_json(room: &conference_room::Model) -> Value {
    json!({
        "id": room.id,
        "name": room.name,
        "description": room.description,
        "capacity": room.capacity,
    })
}

fn schedule_json(r: &reservation::Model) -> Value {
    json!({
        "id": r.id,
        "title": r.title,
        "startsAt": r.starts_at,
        "endsAt": r.ends_at,
        "reservedBy": r.created_by_id,
    })
}

async fn rooms(app: &AppState, req: &HttpRequest) -> AppResult<Vec<Value>> {
    let who = caller(app, req).await?;
    Ok(conference::list_rooms(app, &who)
        .await?
        .iter()
        .map(room_json)
        .collect())
}

/// The organization's conference rooms.
#[utoipa::path(get, path = "/getConferenceRooms", tag = "Chat&Messenger",
    responses((status = 200, description = "`{\"conferenceRooms\": […]}`", body = Object),
        (status = 401, description = "No or a bad x-cam-apiToken", body = ErrorList)),
    security(("cam_api_token" = []), ("bearer" = [])))]
pub(super) async fn conference_rooms(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let rooms = rooms(&app, &req).await?;
    Ok(HttpResponse::Ok().json(json!({ "conferenceRooms": rooms })))
}

/// The master list of conference rooms.
#[utoipa::path(get, path = "/getConferenceMaster", tag = "Chat&Messenger",
    responses((status = 200, description = "`{\"conferenceMaster\": […]}`", body = Object),
        (status = 401, description = "No or a bad x-cam-apiToken", body = ErrorList)),
    security(("cam_api_token" = []), ("bearer" = [])))]
pub(super) async fn conference_master(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let rooms = rooms(&app, &req).await?;
    Ok(HttpResponse::Ok().json(json!({ "conferenceMaster": rooms })))
}

/// `yyyyMM` or `yyyyMMdd` as the half-open UTC range it names.
pub fn period(arg: &str) -> AppResult<(DateTime<Utc>, DateTime<Utc>)> {
    let bad = || {
        AppError::validation(format!(
            "{arg:?} is not a month (yyyyMM, e.g. 201908) or a day (yyyyMMdd, e.g. 20190801)"
        ))
    };
    if !arg.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let (start, end) = match arg.len() {
        6 => {
            let year: i32 = arg[..4].parse().map_err(|_| bad())?;
            let month: u32 = arg[4..].parse().map_err(|_| bad())?;
            let start = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
            let next = if month == 12 {
                NaiveDate::from_ymd_opt(year + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(year, month + 1, 1)
            }
            .ok_or_else(bad)?;
            (start, next)
        }
        8 => {
            let day = NaiveDate::parse_from_str(arg, "%Y%m%d").map_err(|_| bad())?;
            (day, day.succ_opt().ok_or_else(bad)?)
        }
        _ => return Err(bad()),
    };
    let utc = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"));
    Ok((utc(start), utc(end)))
}

/// The body's month or day: a JSON string (`"201908"`, as the seed's
/// client sends it) or a `yyyyMMdd=` form field; nothing else.
fn date_argument(body: &[u8]) -> AppResult<Option<String>> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.starts_with('"') {
        return serde_json::from_str::<String>(text).map(Some).map_err(|e| {
            AppError::MalformedRequest(format!("the body is not a JSON string: {e}"))
        });
    }
    url::form_urlencoded::parse(text.as_bytes())
        .find(|(k, _)| k == "yyyyMMdd" || k == "date")
        .map(|(_, v)| Some(v.into_owned()))
        .ok_or_else(|| {
            AppError::validation(
                "send the month or day as a JSON string (\"201908\") or yyyyMMdd=201908",
            )
        })
}

/// Reservations of a month (`yyyyMM`) or day (`yyyyMMdd`) under
/// `reservedSchedules`; without an argument, the master list.
#[utoipa::path(get, path = "/getConferenceRoomStatus", tag = "Chat&Messenger",
    params(("yyyyMMdd" = Option<String>, Query, description = "201908 or 20190801")),
    responses((status = 200, description = "`conferenceRoomStatus` or `conferenceMaster`", body = Object),
        CamErrors),
    security(("cam_api_token" = []), ("bearer" = [])))]
pub(super) async fn conference_room_status(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let who = caller(&app, &req).await?;
    let query: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let from_query = query
        .into_iter()
        .find(|(k, _)| k == "yyyyMMdd" || k == "date");
    let arg = match from_query {
        Some((_, v)) => Some(v),
        None => date_argument(&body(&app, payload).await?)?,
    };
    let rooms = conference::list_rooms(&app, &who).await?;
    let Some(arg) = arg.filter(|a| !a.trim().is_empty()) else {
        let master: Vec<Value> = rooms.iter().map(room_json).collect();
        return Ok(HttpResponse::Ok().json(json!({ "conferenceMaster": master })));
    };
    let (from, to) = period(arg.trim())?;
    let booked = conference::list_reservations(&app, &who, None, Some(from), Some(to)).await?;
    let status: Vec<Value> = rooms
        .iter()
        .map(|room| {
            let mut json = room_json(room);
            json["reservedSchedules"] = booked
                .iter()
                .filter(|r| r.conference_room_id == room.id)
                .map(schedule_json)
                .collect();
            json
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "conferenceRoomStatus": status })))
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

    #[test]
    fn months_and_days_are_half_open_ranges() {
        let (from, to) = period("201908").unwrap();
        assert_eq!(
            (from.to_rfc3339(), to.to_rfc3339()),
            (
                "2019-08-01T00:00:00+00:00".into(),
                "2019-09-01T00:00:00+00:00".into()
            )
        );
        let (from, to) = period("20191231").unwrap();
        assert_eq!(
            (from.to_rfc3339(), to.to_rfc3339()),
            (
                "2019-12-31T00:00:00+00:00".into(),
                "2020-01-01T00:00:00+00:00".into()
            )
        );
        let (_, to) = period("201912").unwrap();
        assert_eq!(to.to_rfc3339(), "2020-01-01T00:00:00+00:00");
        for bad in [
            "2019",
            "201913",
            "20190230",
            "2019-08",
            "abcdef",
            "2019080100",
        ] {
            assert!(period(bad).is_err(), "{bad}");
        }
    }
}

/// The organization's conference rooms (as a POST, for clients that post every call).
#[utoipa::path(post, path = "/getConferenceRooms", tag = "Chat&Messenger",
    responses((status = 200, description = "As the GET", body = Object),
        (status = 401, description = "No or a bad x-cam-apiToken", body = ErrorList)),
    security(("cam_api_token" = []), ("bearer" = [])))]
pub(super) async fn conference_rooms_post(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    conference_rooms(app, req).await
}

/// The master list of conference rooms (as a POST).
#[utoipa::path(post, path = "/getConferenceMaster", tag = "Chat&Messenger",
    responses((status = 200, description = "As the GET", body = Object),
        (status = 401, description = "No or a bad x-cam-apiToken", body = ErrorList)),
    security(("cam_api_token" = []), ("bearer" = [])))]
pub(super) async fn conference_master_post(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    conference_master(app, req).await
}

/// [`conference_room_status`] with the argument in the body: `"201908"`,
/// `yyyyMMdd=201908` or `{"yyyyMMdd": "201908"}`.
#[utoipa::path(post, path = "/getConferenceRoomStatus", tag = "Chat&Messenger",
    request_body(content = Option<String>, description = "\"201908\" or \"20190801\" (or the form yyyyMMdd=201908); none: the master list"),
    responses((status = 200, description = "`conferenceRoomStatus` or `conferenceMaster`", body = Object),
        (status = 400, description = "Not a month or a day", body = ErrorList),
        (status = 401, description = "No or a bad x-cam-apiToken", body = ErrorList),
        (status = 413, description = "Body too large", body = ErrorList)),
    security(("cam_api_token" = []), ("bearer" = [])))]
pub(super) async fn conference_room_status_post(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    conference_room_status(app, req, payload).await
}
