//! `POST /webhooks/{token}`: a service's own webhook request, turned into a
//! message, page or todo of the integration's project. Answers in BeTalk's
//! envelope: 201 with what was created (200 for a repeat delivery), 404
//! unknown token, 413 too large, 400 unreadable, 401 bad signature.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use entity::{integration, project};
use serde_json::json;

use super::betalk::{BeTalkError, BeTalkErrorBody, Envelope, success};
use crate::{
    domain::{inbound::post_inbound, integrations},
    http::read_limited,
    inbound::{self, Reading, Request, Service},
    state::AppState,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        crate::http::resource("/webhooks/{token}", "GET, POST")
            .route(web::post().to(receive))
            .route(web::get().to(probe)),
    );
}

/// The errors of an inbound webhook request.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // describes responses; never built
pub(super) enum InboundErrors {
    #[response(status = 400, description = "Unreadable body")]
    BadRequest(BeTalkErrorBody),
    #[response(status = 401, description = "Bad or missing signature")]
    Unauthorized(BeTalkErrorBody),
    #[response(status = 404, description = "Unknown token")]
    NotFound(BeTalkErrorBody),
    #[response(status = 409, description = "The project is archived")]
    Conflict(BeTalkErrorBody),
    #[response(status = 413, description = "Body too large")]
    PayloadTooLarge(BeTalkErrorBody),
}

/// A third-party service's own webhook request (GitHub, Stripe, Jira, a
/// Slack-style `incoming` body, …), turned into a message, page or todo.
#[utoipa::path(post, path = "/webhooks/{token}", tag = "Inbound webhooks",
    params(("token" = String, Path, description = "The integration's token (end of its webhook_url)")),
    request_body(content = Object, description = "The service's native payload: JSON, a form, or `payload=<json>`",
        content_type = "application/json"),
    responses((status = 201, description = "Created", body = Envelope<Received>),
        (status = 200, description = "A repeat delivery or a handshake (ping, url_verification, …)", body = Object),
        InboundErrors))]
pub(super) async fn receive(
    app: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, BeTalkError> {
    let (integration, project) =
        integrations::integration_by_token(&app.db, &app.secrets, &token).await?;
    let body = read_limited(payload, &app.settings).await?;
    handle(&app, &integration, project, &req, &body).await
}

/// A GET: Yo calls back this way; Mailchimp and others check that the URL
/// answers before they save it.
#[utoipa::path(get, path = "/webhooks/{token}", tag = "Inbound webhooks",
    params(("token" = String, Path, description = "The integration's token")),
    responses((status = 200, description = "The URL is live (or Yo's callback was posted)", body = Object),
        (status = 201, description = "Yo's callback, posted", body = Envelope<Received>),
        InboundErrors))]
pub(super) async fn probe(
    app: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, BeTalkError> {
    let (integration, project) =
        integrations::integration_by_token(&app.db, &app.secrets, &token).await?;
    let service = integrations::service_of(&integration);
    if service == Service::Yo && !req.query_string().is_empty() {
        return handle(&app, &integration, project, &req, &[]).await;
    }
    Ok(HttpResponse::Ok().json(success(json!({ "service": service.as_str() }))))
}

async fn handle(
    app: &AppState,
    integration: &integration::Model,
    project: project::Model,
    req: &HttpRequest,
    body: &[u8],
) -> Result<HttpResponse, BeTalkError> {
    let service = integrations::service_of(integration);
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let request = Request {
        headers: req.headers(),
        body,
        payload: inbound::parse_body(content_type, req.query_string(), body)?,
    };
    if let Some(secret) = &integration.secret {
        inbound::verify(service, secret, &request, chrono::Utc::now().timestamp())?;
    }
    let summary = match inbound::read(service, &request) {
        Reading::Handshake(answer) => return Ok(HttpResponse::Ok().json(answer)),
        Reading::Post(summary) => summary,
    };
    let delivery_id = inbound::delivery_id(service, &request);
    let received = post_inbound(app, integration, &project, summary, delivery_id).await?;
    let mut response = if received.duplicate {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    };
    Ok(response.json(success(Received {
        action: integration.action.clone(),
        kind: received.kind,
        id: received.id,
        duplicate: received.duplicate,
    })))
}

/// What an inbound webhook created.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct Received {
    /// The integration's action: `chat`, `page` or `todo`.
    action: String,
    /// `message`, `page` or `todo`.
    #[serde(rename = "type")]
    kind: String,
    id: String,
    /// The provider sent this delivery before; nothing new was created.
    duplicate: bool,
}
