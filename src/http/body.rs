use std::time::Duration;

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    error::PayloadError,
    http::header::CONTENT_LENGTH,
    middleware::Next,
    web::{self, Bytes, BytesMut, Payload},
};
use futures_util::StreamExt;

use crate::{
    config::Settings,
    error::{AppError, AppResult},
    state::AppState,
};

/// actix middleware: a request whose `Content-Length` already says it is
/// over `MAX_BODY_BYTES` gets a body that fails at its first read, so its
/// route refuses it with 413 (in its own error format) at once instead of
/// waiting for bytes that may never come.
pub async fn refuse_declared_oversize(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map(|app| app.settings.max_body_bytes);
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
    if let (Some(limit), Some(declared)) = (limit, declared)
        && declared > limit as u64
    {
        let refused = futures_util::stream::once(async { Err(PayloadError::Overflow) });
        req.set_payload(actix_web::dev::Payload::Stream {
            payload: Box::pin(refused),
        });
    }
    next.call(req).await
}

/// Reads a whole request body, refusing it with 413 as soon as it passes
/// `MAX_BODY_BYTES` (before buffering the rest), and with 408 when it has
/// not all arrived within `BODY_TIMEOUT_SECONDS`.
pub async fn read_limited(payload: Payload, settings: &Settings) -> AppResult<Bytes> {
    let seconds = settings.body_timeout_seconds;
    tokio::time::timeout(
        Duration::from_secs(seconds),
        read(payload, settings.max_body_bytes),
    )
    .await
    .map_err(|_| AppError::BodyTimeout(seconds))?
}

async fn read(mut payload: Payload, limit: usize) -> AppResult<Bytes> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            actix_web::error::PayloadError::Overflow => AppError::PayloadTooLarge(limit),
            other => {
                AppError::MalformedRequest(format!("could not read the request body: {other}"))
            }
        })?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
