//! Turning a presented credential into an [`Auth`].

use super::{accounts, api_tokens};
use crate::{
    auth::{Auth, api_token},
    domain::Ctx,
    error::AppResult,
};

/// Checks a credential: an API token (`jct_…`) or a session JWT. A
/// credential that checked out within the cache's TTL is not looked up again.
pub async fn authenticate(app: &Ctx, credential: Option<&str>) -> AppResult<Auth> {
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
