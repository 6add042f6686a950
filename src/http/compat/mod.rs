//! The compatibility routes: other products' REST APIs, each in its own
//! envelope, over the same domain layer as GraphQL.

pub(super) mod betalk;
pub(super) mod cam;
pub(super) mod conference;
pub(super) mod inbound;
pub(super) mod integration_points;

use actix_web::{HttpRequest, web};

use crate::{
    auth::Principal, domain::sessions::authenticate, error::AppResult,
    http::credential_from_headers, state::AppState,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    inbound::routes(cfg);
    cam::routes(cfg);
    conference::routes(cfg);
    integration_points::routes(cfg);
    betalk::routes(cfg);
}

/// The authenticated caller of a REST request (Bearer JWT or API token).
async fn caller(app: &AppState, req: &HttpRequest) -> AppResult<Principal> {
    let auth = authenticate(app, credential_from_headers(req.headers()).as_deref()).await?;
    auth.principal().cloned()
}

/// Reads a JSON body of at most `MAX_BODY_BYTES` into `T`; `400` when it
/// does not fit `T`.
async fn json_body<T: serde::de::DeserializeOwned>(
    app: &AppState,
    payload: web::Payload,
) -> AppResult<T> {
    let body = super::read_limited(payload, &app.settings).await?;
    serde_json::from_slice(&body).map_err(|e| {
        crate::error::AppError::MalformedRequest(format!("the body is not the JSON expected: {e}"))
    })
}
