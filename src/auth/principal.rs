use super::Role;
use crate::error::{AppError, AppResult};

/// An authenticated caller acting within one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub organization_id: String,
    pub role: Role,
    /// Set when the caller used an API token rather than a session.
    pub api_token_id: Option<String>,
}

impl Principal {
    /// Fails with `FORBIDDEN` unless the caller is an admin or owner.
    pub fn require_admin(&self) -> AppResult<()> {
        if self.role.is_admin() {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "this operation needs the admin or owner role",
            ))
        }
    }
}

/// What the request's credentials amount to. A request that presents a bad
/// credential is not treated as anonymous: operations that need a caller
/// report why the credential was refused.
#[derive(Debug, Clone)]
pub enum Auth {
    Anonymous,
    Authenticated(Principal),
    Rejected(String),
}

impl Auth {
    pub fn principal(&self) -> AppResult<&Principal> {
        match self {
            Auth::Authenticated(p) => Ok(p),
            Auth::Anonymous => Err(AppError::unauthenticated(
                "authentication required: send `Authorization: Bearer <token>`",
            )),
            Auth::Rejected(reason) => Err(AppError::unauthenticated(reason.clone())),
        }
    }
}
