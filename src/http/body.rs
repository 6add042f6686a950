use std::time::Duration;

use actix_web::web::{Bytes, BytesMut, Payload};
use futures_util::StreamExt;

use crate::{
    config::Settings,
    error::{AppError, AppResult},
};

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
