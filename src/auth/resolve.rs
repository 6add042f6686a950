//! Turning a presented credential into an [`Auth`].

use actix_web::http::header::HeaderMap;

use super::{Auth, api_token};
use crate::{
    domain::{accounts, api_tokens},
    error::AppResult,
    state::AppState,
};

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

/// Checks a credential: an API token (`jct_…`) or a session JWT. A
/// credential that checked out within the cache's TTL is not looked up again.
pub async fn authenticate(app: &AppState, credential: Option<&str>) -> AppResult<Auth> {
    let Some(credential) = credential.filter(|c| !c.is_empty()) else {
        return Ok(Auth::Anonymous);
    };
    if api_token::looks_like_api_token(credential) {
        let key = api_token::hash(credential);
        if let Some(principal) = app.principals.get(&key) {
            return Ok(Auth::Authenticated(principal));
        }
        return Ok(
            match api_tokens::principal_for_token(app, credential).await? {
                Some(p) => {
                    app.principals.put(key, &p);
                    Auth::Authenticated(p)
                }
                None => Auth::Rejected("API token is invalid or revoked".into()),
            },
        );
    }
    let claims = match app.jwt.verify(credential) {
        Ok(claims) => claims,
        Err(e) => return Ok(Auth::Rejected(e.to_string())),
    };
    // Session keys cannot collide with token hashes: those are hex.
    let key = format!("session {} {}", claims.sub, claims.org);
    if let Some(principal) = app.principals.get(&key) {
        return Ok(Auth::Authenticated(principal));
    }
    Ok(
        match accounts::principal_for_session(app, &claims.sub, &claims.org).await? {
            Some(p) => {
                app.principals.put(key, &p);
                Auth::Authenticated(p)
            }
            None => Auth::Rejected("you are no longer a member of this organization".into()),
        },
    )
}
