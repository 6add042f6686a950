//! `/rest/v1/service/integration_points` (seed 002): POST, GET (list with
//! `filter`, `mask`, `offset`, `limit`, `order`, `flat`), GET/PATCH/DELETE
//! by id, the `LOOKUP` method, and the `ws_hook` inbound URL
//! `POST …/{id}/hook`. Errors as `{"error_code": 1xxx, "error_message"}`.

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{
        Method, StatusCode,
        header::{CONTENT_TYPE, HeaderValue},
    },
    middleware::{Next, from_fn},
    web,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{caller, json_body};
use crate::http::resource;
use crate::{
    domain::channels::{
        self, ChannelInput,
        fields::Field,
        json::render,
        query::{self, ListQuery, MAX_LIMIT},
    },
    error::AppError,
    state::AppState,
};

const BASE: &str = "/rest/v1/service/integration_points";

pub fn routes(cfg: &mut web::ServiceConfig) {
    let lookup = Method::from_bytes(b"LOOKUP").expect("a valid method name");
    cfg.service(
        resource(BASE, "GET, POST, LOOKUP")
            .route(web::post().to(create))
            .route(web::get().to(list))
            .route(web::method(lookup).to(lookup_ids))
            .wrap(from_fn(utf8_json)),
    )
    .service(
        resource(&format!("{BASE}/{{id}}"), "GET, PATCH, DELETE")
            .route(web::get().to(get_one))
            .route(web::patch().to(update))
            .route(web::delete().to(delete))
            .wrap(from_fn(utf8_json)),
    )
    .service(
        resource(&format!("{BASE}/{{id}}/hook"), "POST")
            .route(web::post().to(hook))
            .wrap(from_fn(utf8_json)),
    );
}

/// Names the charset of JSON answers, as the seed's responses do.
async fn utf8_json(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    if headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v == "application/json")
    {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    Ok(response)
}

/// An [`AppError`] as this API reports errors: `1000 + status`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PointError(#[from] pub AppError);

/// This API's error body.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PointErrorBody {
    /// 1000 + the HTTP status (1400, 1401, 1403, 1404, …).
    error_code: u16,
    error_message: String,
}

impl ResponseError for PointError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        self.0.response().json(PointErrorBody {
            error_code: 1000 + self.0.status().as_u16(),
            error_message: self.0.to_string(),
        })
    }
}

type PointResult = Result<HttpResponse, PointError>;

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Opts {
    title: Option<String>,
    comment: Option<String>,
    allow_files_api: Option<bool>,
    issync: Option<bool>,
}

/// The entity as clients send it. `id`, `token_local` and `ext` are the
/// server's; anything not in the entity is refused.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Body {
    id: Option<String>,
    code: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    token_local: Option<String>,
    token_remote: Option<String>,
    token_remote2: Option<String>,
    url: Option<String>,
    recv_svcscriptcode: Option<String>,
    recv_svcscriptcode_ws: Option<String>,
    send_svcscriptcode: Option<String>,
    send_svcscriptcode_ws: Option<String>,
    opts: Option<Opts>,
    #[allow(dead_code)]
    #[schema(value_type = Option<Object>)]
    ext: Option<Value>,
    project_id: Option<String>,
}

impl Body {
    fn input(self) -> ChannelInput {
        let opts = self.opts.unwrap_or_default();
        ChannelInput {
            id: self.id,
            token_local: self.token_local,
            project_id: self.project_id,
            code: self.code,
            kind: self.kind,
            token_remote: self.token_remote,
            token_remote2: self.token_remote2,
            url: self.url,
            recv_svcscriptcode: self.recv_svcscriptcode,
            recv_svcscriptcode_ws: self.recv_svcscriptcode_ws,
            send_svcscriptcode: self.send_svcscriptcode,
            send_svcscriptcode_ws: self.send_svcscriptcode_ws,
            opts_title: opts.title,
            opts_comment: opts.comment,
            opts_allow_files_api: opts.allow_files_api,
            opts_issync: opts.issync,
        }
    }
}

/// `mask` and `flat`, shared by the list and the single read.
struct View {
    fields: Vec<Field>,
    flat: bool,
}

fn params(req: &HttpRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

fn view(params: &[(String, String)]) -> Result<View, AppError> {
    let mut view = View {
        fields: query::all_fields(),
        flat: false,
    };
    for (key, value) in params {
        match key.as_str() {
            // An empty mask is no mask.
            "mask" if value.trim().is_empty() => {}
            "mask" => view.fields = query::parse_mask(value)?,
            "flat" => view.flat = query::parse_bool("flat", value)?,
            _ => {}
        }
    }
    Ok(view)
}

/// The errors of the integration points resource.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // describes responses; never built
pub(super) enum PointErrors {
    #[response(status = 400, description = "Bad parameter or body")]
    BadRequest(PointErrorBody),
    #[response(status = 401, description = "No or a bad credential")]
    Unauthorized(PointErrorBody),
    #[response(status = 403, description = "Not an admin")]
    Forbidden(PointErrorBody),
    #[response(status = 404, description = "Not found")]
    NotFound(PointErrorBody),
    #[response(status = 413, description = "Body too large")]
    PayloadTooLarge(PointErrorBody),
}

/// Creates an integration point (`project_id` links it to a project).
#[utoipa::path(post, path = "/rest/v1/service/integration_points", tag = "Integration points",
    request_body = Body,
    responses((status = 200, description = "The new integration point", body = Object),
        PointErrors),
    security(("bearer" = []), ("cam_api_token" = [])))]
pub(super) async fn create(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> PointResult {
    let who = caller(&app, &req).await?;
    let body: Body = json_body(&app, payload).await?;
    let created = channels::create_channel(&app, &who, body.input()).await?;
    Ok(HttpResponse::Ok().json(render(&created, &query::all_fields(), false)))
}

/// Lists integration points. The `LOOKUP` method on this path takes a JSON string (id, code or token_local) and answers the matching ids, or 404 `{"error_code": 1404, "error_message": "Lookup failed"}`.
#[utoipa::path(get, path = "/rest/v1/service/integration_points", tag = "Integration points",
    params(("filter" = Option<String>, Query, description = "JSON object: field → value"), ("order" = Option<String>, Query, description = "JSON array: [\"code\", \"-ext.ct\", {\"type\": \"desc\"}]"), ("offset" = Option<u64>, Query, description = "Skip this many"), ("limit" = Option<u64>, Query, description = "At most this many (≤ 1000)"), ("mask" = Option<String>, Query, description = "Fields to return: id,code,opts.title,…"), ("flat" = Option<bool>, Query, description = "opts.title-style keys")),
    responses((status = 200, description = "Integration points", body = [Object]),
        PointErrors),
    security(("bearer" = []), ("cam_api_token" = [])))]
pub(super) async fn list(app: web::Data<AppState>, req: HttpRequest) -> PointResult {
    let who = caller(&app, &req).await?;
    let params = params(&req);
    let view = view(&params)?;
    let mut list = ListQuery::default();
    for (key, value) in params.iter().filter(|(_, v)| !v.trim().is_empty()) {
        match key.as_str() {
            "filter" => list.filter = query::parse_filter(value)?,
            "order" => list.order = query::parse_order(value)?,
            "offset" => list.offset = query::parse_count("offset", value, u64::MAX / 2)?,
            "limit" => list.limit = query::parse_count("limit", value, MAX_LIMIT)?,
            _ => {}
        }
    }
    let found = channels::list_channels(&app, &who, &list).await?;
    let rendered: Vec<Value> = found
        .iter()
        .map(|c| render(c, &view.fields, view.flat))
        .collect();
    Ok(HttpResponse::Ok().json(rendered))
}

/// One integration point.
#[utoipa::path(get, path = "/rest/v1/service/integration_points/{id}", tag = "Integration points",
    params(("id" = String, Path, description = "The integration point id"), ("mask" = Option<String>, Query, description = "Fields to return: id,code,opts.title,…"), ("flat" = Option<bool>, Query, description = "opts.title-style keys")),
    responses((status = 200, description = "The integration point", body = Object),
        PointErrors),
    security(("bearer" = []), ("cam_api_token" = [])))]
pub(super) async fn get_one(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> PointResult {
    let who = caller(&app, &req).await?;
    let view = view(&params(&req))?;
    let found = channels::channel_for_admin(&app.db, &app.secrets, &who, &id).await?;
    Ok(HttpResponse::Ok().json(render(&found, &view.fields, view.flat)))
}

/// Changes fields; `id` and `token_local` cannot change.
#[utoipa::path(patch, path = "/rest/v1/service/integration_points/{id}", tag = "Integration points",
    params(("id" = String, Path, description = "The integration point id")),
    request_body = Body,
    responses((status = 200, description = "The updated integration point", body = Object),
        PointErrors),
    security(("bearer" = []), ("cam_api_token" = [])))]
pub(super) async fn update(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> PointResult {
    let who = caller(&app, &req).await?;
    let body: Body = json_body(&app, payload).await?;
    let updated = channels::update_channel(&app, &who, &id, body.input()).await?;
    Ok(HttpResponse::Ok().json(render(&updated, &query::all_fields(), false)))
}

/// Deletes an integration point (and the webhook it owns).
#[utoipa::path(delete, path = "/rest/v1/service/integration_points/{id}", tag = "Integration points",
    params(("id" = String, Path, description = "The integration point id")),
    responses((status = 204, description = "Deleted"),
        PointErrors),
    security(("bearer" = []), ("cam_api_token" = [])))]
pub(super) async fn delete(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> PointResult {
    let who = caller(&app, &req).await?;
    channels::delete_channel(&app, &who, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `LOOKUP` with a JSON string: the ids whose id, code or `token_local` it is.
async fn lookup_ids(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> PointResult {
    let who = caller(&app, &req).await?;
    let key: Value = json_body(&app, payload).await?;
    let Value::String(key) = key else {
        return Err(
            AppError::validation("LOOKUP takes a JSON string: an id, code or token_local").into(),
        );
    };
    let found = channels::lookup(&app, &who, &key).await?;
    if found.is_empty() {
        return Ok(HttpResponse::NotFound()
            .json(json!({ "error_code": 1404, "error_message": "Lookup failed" })));
    }
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct Inbound {
    text: String,
    #[serde(alias = "username")]
    author: Option<String>,
}

/// The `ws_hook` side: `POST …/{id}/hook` with `{"text": …}`, the
/// channel's `token_local` as Bearer token (or `?token=`).
/// A message into a `ws_hook` channel, authenticated by its `token_local`
/// as Bearer token or `?token=`.
#[utoipa::path(post, path = "/rest/v1/service/integration_points/{id}/hook", tag = "Integration points",
    params(("id" = String, Path, description = "The integration point id"), ("token" = Option<String>, Query, description = "The channel's token_local")),
    request_body = Inbound,
    responses((status = 201, description = "Posted into the linked project", body = Object),
        (status = 400, description = "Bad body", body = PointErrorBody),
        (status = 401, description = "Wrong token_local", body = PointErrorBody),
        (status = 404, description = "No such ws_hook channel", body = PointErrorBody),
        (status = 409, description = "The project is archived", body = PointErrorBody),
        (status = 413, description = "Body too large", body = PointErrorBody)))]
pub(super) async fn hook(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> PointResult {
    let token = crate::http::credential_from_headers(req.headers()).or_else(|| {
        params(&req)
            .into_iter()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v)
    });
    let body: Inbound = json_body(&app, payload).await?;
    let message = channels::receive(&app, &id, token.as_deref(), body.text, body.author).await?;
    Ok(HttpResponse::Created()
        .json(json!({ "message_id": message.id, "project_id": message.project_id })))
}
