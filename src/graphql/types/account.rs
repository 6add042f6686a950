use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{api_token, organization, user};

use crate::{
    auth,
    domain::{invitations, views},
};

/// A member's role in an organization.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::auth::Role")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

#[derive(SimpleObject)]
pub struct User {
    pub id: ID,
    pub email: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<user::Model> for User {
    fn from(u: user::Model) -> Self {
        Self {
            id: ID(u.id),
            email: u.email,
            name: u.name,
            created_at: u.created_at,
        }
    }
}

/// A tenant: every object belongs to exactly one organization.
#[derive(SimpleObject)]
pub struct Organization {
    pub id: ID,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<organization::Model> for Organization {
    fn from(o: organization::Model) -> Self {
        Self {
            id: ID(o.id),
            name: o.name,
            created_at: o.created_at,
        }
    }
}

/// A user's membership of the caller's organization.
#[derive(SimpleObject)]
pub struct Member {
    /// The membership id, used by `updateMemberRole` and `removeMember`.
    pub id: ID,
    pub role: Role,
    pub user: User,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<views::MemberView> for Member {
    type Error = crate::error::AppError;
    fn try_from(v: views::MemberView) -> Result<Self, Self::Error> {
        let role: auth::Role = v.membership.role.parse()?;
        Ok(Self {
            id: ID(v.membership.id),
            role: role.into(),
            user: v.user.into(),
            created_at: v.membership.created_at,
            updated_at: v.membership.updated_at,
        })
    }
}

/// Where an invitation stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::invitations::Status")]
pub enum InvitationStatus {
    /// Waiting for the invited person.
    Pending,
    Accepted,
    Revoked,
    /// Not accepted in time (`expiresAt`).
    Expired,
}

/// An invitation to join an organization, addressed to an e-mail. It says
/// nothing about any account with that e-mail.
#[derive(SimpleObject)]
pub struct Invitation {
    /// Used by `acceptInvitation` and `revokeInvitation`.
    pub id: ID,
    pub email: String,
    pub role: Role,
    pub status: InvitationStatus,
    /// The organization it invites to.
    pub organization: Organization,
    /// What the invitee accepts it with (`acceptInvitation`): shown once,
    /// in `addMember`'s answer, for the admin to pass on. Null elsewhere.
    pub token: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl TryFrom<invitations::InvitationView> for Invitation {
    type Error = crate::error::AppError;
    fn try_from(v: invitations::InvitationView) -> Result<Self, Self::Error> {
        let role: auth::Role = v.invitation.role.parse()?;
        let status = invitations::status(&v.invitation, chrono::Utc::now());
        Ok(Self {
            id: ID(v.invitation.id),
            email: v.invitation.email,
            role: role.into(),
            status: status.into(),
            organization: v.organization.into(),
            token: v.token,
            created_at: v.invitation.created_at,
            expires_at: v.invitation.expires_at,
        })
    }
}

/// The caller: who they are and where they act.
#[derive(SimpleObject)]
pub struct Viewer {
    pub user: User,
    pub organization: Organization,
    pub role: Role,
    /// The API token in use, when the caller authenticated with one.
    pub api_token_id: Option<ID>,
}

/// A new session.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub user: User,
    pub organization: Organization,
    pub role: Role,
}

impl From<views::Session> for AuthPayload {
    fn from(s: views::Session) -> Self {
        Self {
            token: s.token,
            user: s.user.into(),
            organization: s.organization.into(),
            role: s.role.into(),
        }
    }
}

/// A long-lived credential. The token itself is only shown at creation.
#[derive(SimpleObject)]
pub struct ApiToken {
    pub id: ID,
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    pub prefix: String,
    pub user_id: ID,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_token::Model> for ApiToken {
    fn from(t: api_token::Model) -> Self {
        Self {
            id: ID(t.id),
            name: t.name,
            prefix: t.prefix,
            user_id: ID(t.user_id),
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct CreatedApiToken {
    /// The token, shown this once: store it now.
    pub token: String,
    pub api_token: ApiToken,
}

impl From<views::CreatedApiToken> for CreatedApiToken {
    fn from(c: views::CreatedApiToken) -> Self {
        Self {
            token: c.token,
            api_token: c.api_token.into(),
        }
    }
}
