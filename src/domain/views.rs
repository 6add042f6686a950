//! Read models the domain hands to the API layers, and the JSON each takes in
//! event payloads (camelCase, parents nested, as in Blue's webhook example).

use entity::{api_token, membership, organization, user};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct MemberView {
    pub membership: membership::Model,
    pub user: user::Model,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub user: user::Model,
    pub organization: organization::Model,
    pub role: crate::auth::Role,
}

#[derive(Debug, Clone)]
pub struct CreatedApiToken {
    /// The plaintext token, returned this once and never stored.
    pub token: String,
    pub api_token: api_token::Model,
}

pub fn user_json(user: &user::Model) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "createdAt": user.created_at,
        "updatedAt": user.updated_at,
    })
}

pub fn company_json(org: &organization::Model) -> Value {
    json!({
        "id": org.id,
        "name": org.name,
        "createdAt": org.created_at,
        "updatedAt": org.updated_at,
    })
}

pub fn member_json(member: &MemberView, org: &organization::Model) -> Value {
    json!({
        "id": member.membership.id,
        "role": member.membership.role.to_uppercase(),
        "userId": member.user.id,
        "companyId": org.id,
        "createdAt": member.membership.created_at,
        "updatedAt": member.membership.updated_at,
        "user": user_json(&member.user),
        "company": company_json(org),
    })
}
