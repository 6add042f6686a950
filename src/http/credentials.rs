//! Where a request carries its credential.

use actix_web::http::header::HeaderMap;

/// The credential of an HTTP request: `Authorization: Bearer …`, or the
/// Chat&Messenger API's `x-cam-apiToken` header.
pub fn credential_from_headers(headers: &HeaderMap) -> Option<String> {
    // Chat&Messenger's own header first: a request that sends it is judged
    // by it, even if it also carries an Authorization header.
    if let Some(token) = headers.get("x-cam-apitoken").and_then(|v| v.to_str().ok()) {
        return Some(token.trim().to_owned());
    }
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .unwrap_or(value);
    Some(token.trim().to_owned())
}
