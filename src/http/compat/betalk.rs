//! BeTalk's integration routes (seed 000): `{"code": "RESPONSE_SUCCESS",
//! "data": …}`, ids as strings, times in epoch milliseconds.

use actix_web::{HttpRequest, HttpResponse, ResponseError, http::StatusCode, web};
use entity::integration;
use serde::{Deserialize, Serialize};

use super::{caller, json_body};
use crate::http::resource;
use crate::{
    domain::integrations::{self, NewIntegration},
    error::AppError,
    state::AppState,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/me/integrations", "GET").route(web::get().to(my_integrations)))
        .service(
            resource("/{binder_id}/integrations", "GET, POST")
                .route(web::get().to(binder_integrations))
                .route(web::post().to(create)),
        )
        .service(
            resource("/{binder_id}/integrations/{integration_id}", "DELETE")
                .route(web::delete().to(delete)),
        );
}

/// An [`AppError`] in BeTalk's envelope: a non-success `code` and a message.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BeTalkError(#[from] pub AppError);

impl BeTalkError {
    fn code(&self) -> &'static str {
        match &self.0 {
            AppError::Unauthenticated(_) => "RESPONSE_ERROR_UNAUTHORIZED",
            AppError::Forbidden(_) => "RESPONSE_ERROR_PERMISSION",
            AppError::NotFound(_) => "RESPONSE_ERROR_NOT_FOUND",
            AppError::Validation(_) | AppError::MalformedRequest(_) => {
                "RESPONSE_ERROR_INVALID_REQUEST"
            }
            AppError::Conflict(_) => "RESPONSE_ERROR_CONFLICT",
            AppError::PayloadTooLarge(_) => "RESPONSE_ERROR_TOO_LARGE",
            AppError::BodyTimeout(_) => "RESPONSE_ERROR_TIMEOUT",
            AppError::TooManyAttempts(_) => "RESPONSE_ERROR_TOO_MANY_REQUESTS",
            AppError::Unavailable(_) => "RESPONSE_ERROR_UNAVAILABLE",
            AppError::Internal(_) => "RESPONSE_ERROR_SERVER",
        }
    }
}

/// BeTalk's error body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BeTalkErrorBody {
    /// `RESPONSE_ERROR_NOT_FOUND`, `RESPONSE_ERROR_UNAUTHORIZED`, …
    code: &'static str,
    message: String,
}

impl ResponseError for BeTalkError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        self.0.response().json(BeTalkErrorBody {
            code: self.code(),
            message: self.0.to_string(),
        })
    }
}

type BeTalkResult = Result<HttpResponse, BeTalkError>;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Envelope<T> {
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<T>,
}

pub fn success<T: Serialize>(data: T) -> Envelope<T> {
    Envelope {
        code: "RESPONSE_SUCCESS",
        data: Some(data),
    }
}

/// An integration as BeTalk lists it, fields in the seed's order.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Integration {
    webhook_url: String,
    id: String,
    service: String,
    action: String,
    description: String,
    updated_time: i64,
    created_time: i64,
}

impl Integration {
    fn new(app: &AppState, i: &integration::Model) -> Self {
        Self {
            webhook_url: integrations::webhook_url(&app.settings, i),
            id: i.id.clone(),
            service: i.service.clone(),
            action: i.action.clone(),
            description: i.description.clone(),
            updated_time: i.updated_at.timestamp_millis(),
            created_time: i.created_at.timestamp_millis(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Binder {
    binder_id: String,
    count: usize,
    integrations: Vec<Integration>,
}

impl Binder {
    fn new(app: &AppState, binder_id: String, list: &[integration::Model]) -> Self {
        Self {
            binder_id,
            count: list.len(),
            integrations: list.iter().map(|i| Integration::new(app, i)).collect(),
        }
    }
}

/// The seed documents `Service`/`Action` capitalised and uses lower case
/// in its example; both are taken.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct CreateBody {
    /// One of the 28 services, any case.
    #[serde(alias = "Service")]
    service: String,
    /// `chat`, `page` or `todo`.
    #[serde(alias = "Action")]
    action: String,
    #[serde(alias = "Description")]
    description: Option<String>,
    /// Ours: verifies the service's signatures.
    secret: Option<String>,
}

/// The errors of BeTalk's integration routes.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // describes responses; never built
pub(super) enum BeTalkErrors {
    #[response(status = 400, description = "Unreadable or invalid body")]
    BadRequest(BeTalkErrorBody),
    #[response(status = 401, description = "No or a bad credential")]
    Unauthorized(BeTalkErrorBody),
    #[response(status = 403, description = "Not an admin")]
    Forbidden(BeTalkErrorBody),
    #[response(status = 404, description = "No such binder or integration")]
    NotFound(BeTalkErrorBody),
    #[response(status = 413, description = "Body too large")]
    PayloadTooLarge(BeTalkErrorBody),
}

/// The integrations of every binder (project) the caller can see.
#[utoipa::path(get, path = "/me/integrations", tag = "BeTalk",
    responses((status = 200, description = "Grouped by binder", body = Envelope<MyIntegrations>),
        (status = 401, description = "No or a bad credential", body = BeTalkErrorBody)),
    security(("bearer" = []), ("cam_api_token" = [])))]
pub(super) async fn my_integrations(app: web::Data<AppState>, req: HttpRequest) -> BeTalkResult {
    let who = caller(&app, &req).await?;
    let binders: Vec<Binder> = integrations::list_my_integrations(&app, &who)
        .await?
        .into_iter()
        .map(|(binder_id, list)| Binder::new(&app, binder_id, &list))
        .collect();
    Ok(HttpResponse::Ok().json(success(MyIntegrations { binders })))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct MyIntegrations {
    binders: Vec<Binder>,
}

/// One binder's integrations.
#[utoipa::path(get, path = "/{binder_id}/integrations", tag = "BeTalk",
    params(("binder_id" = String, Path, description = "The project (binder) id")),
    responses((status = 200, description = "The binder's integrations", body = Envelope<Binder>),
        BeTalkErrors),
    security(("bearer" = []), ("cam_api_token" = [])))]
pub(super) async fn binder_integrations(
    app: web::Data<AppState>,
    req: HttpRequest,
    binder_id: web::Path<String>,
) -> BeTalkResult {
    let who = caller(&app, &req).await?;
    let (project, list) = integrations::list_project_integrations(&app, &who, &binder_id).await?;
    Ok(HttpResponse::Ok().json(success(Binder::new(&app, project.id, &list))))
}

/// Adds an integration to a binder (admins).
#[utoipa::path(post, path = "/{binder_id}/integrations", tag = "BeTalk",
    params(("binder_id" = String, Path, description = "The project (binder) id")),
    request_body = CreateBody,
    responses((status = 200, description = "The new integration", body = Envelope<Integration>),
        BeTalkErrors),
    security(("bearer" = []), ("cam_api_token" = [])))]
pub(super) async fn create(
    app: web::Data<AppState>,
    req: HttpRequest,
    binder_id: web::Path<String>,
    payload: web::Payload,
) -> BeTalkResult {
    let who = caller(&app, &req).await?;
    let body: CreateBody = json_body(&app, payload).await?;
    let input = NewIntegration {
        service: body.service,
        action: body.action,
        description: body.description,
        secret: body.secret,
    };
    let created = integrations::create_integration(&app, &who, &binder_id, input).await?;
    Ok(HttpResponse::Ok().json(success(Integration::new(&app, &created))))
}

/// Removes an integration of a binder (admins).
#[utoipa::path(delete, path = "/{binder_id}/integrations/{integration_id}", tag = "BeTalk",
    params(("binder_id" = String, Path, description = "The project (binder) id"),
        ("integration_id" = String, Path, description = "The integration id")),
    responses((status = 200, description = "`{\"code\": \"RESPONSE_SUCCESS\"}`", body = Envelope<Binder>),
        BeTalkErrors),
    security(("bearer" = []), ("cam_api_token" = [])))]
pub(super) async fn delete(
    app: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> BeTalkResult {
    let who = caller(&app, &req).await?;
    let (binder_id, integration_id) = path.into_inner();
    integrations::delete_integration(&app, &who, Some(&binder_id), &integration_id).await?;
    Ok(HttpResponse::Ok().json(Envelope::<()> {
        code: "RESPONSE_SUCCESS",
        data: None,
    }))
}
