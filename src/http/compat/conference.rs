//! Chat&Messenger's conference rooms and their reservations (seed 001):
//! `getConferenceRooms`, `getConferenceMaster`, `getConferenceRoomStatus`,
//! each as a GET or, for clients that post every call, a POST.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use entity::{conference_room, reservation};
use serde_json::{Value, json};

use super::{
    caller,
    cam::{CamErrors, body},
};
use crate::{
    domain::conference,
    error::{AppError, AppResult, ErrorList},
    http::resource,
    state::AppState,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
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
/// client sends it), a JSON object (`{"yyyyMMdd": "201908"}`) or a
/// `yyyyMMdd=` form field; nothing else.
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
    if text.starts_with('{') {
        let fields: serde_json::Map<String, Value> = serde_json::from_str(text).map_err(|e| {
            AppError::MalformedRequest(format!("the body is not a JSON object: {e}"))
        })?;
        let date = fields.get("yyyyMMdd").or_else(|| fields.get("date"));
        return match date {
            Some(Value::String(date)) => Ok(Some(date.clone())),
            None | Some(Value::Null) => Ok(None),
            Some(_) => Err(AppError::validation(
                "yyyyMMdd must be a string such as \"201908\" or \"20190801\"",
            )),
        };
    }
    url::form_urlencoded::parse(text.as_bytes())
        .find(|(k, _)| k == "yyyyMMdd" || k == "date")
        .map(|(_, v)| Some(v.into_owned()))
        .ok_or_else(|| {
            AppError::validation(
                "send the month or day as a JSON string (\"201908\"), as \
                 {\"yyyyMMdd\": \"201908\"} or as yyyyMMdd=201908",
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

/// As `GET /getConferenceRoomStatus`, with the month or day in the body:
/// `"201908"`, `{"yyyyMMdd": "201908"}` or `yyyyMMdd=201908`.
#[utoipa::path(post, path = "/getConferenceRoomStatus", tag = "Chat&Messenger",
    request_body(content = Option<String>, description = "A month or a day as a JSON string (\"201908\", \"20190801\"), as an object ({\"yyyyMMdd\": \"201908\"}) or as the form yyyyMMdd=201908; none: the master list"),
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

#[cfg(test)]
mod tests {
    use super::*;

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
