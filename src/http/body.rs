use actix_web::web::{Bytes, BytesMut, Payload};
use futures_util::StreamExt;

use crate::error::{AppError, AppResult};

/// Reads a whole request body, refusing it with 413 as soon as it passes
/// `limit` bytes (before buffering the rest).
pub async fn read_limited(mut payload: Payload, limit: usize) -> AppResult<Bytes> {
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
