//! GraphQL object types, converted from the domain's models and views.

mod account;
mod event;

pub use account::{
    ApiToken, AuthPayload, CreatedApiToken, Member, Organization, Role, User, Viewer,
};
pub use event::Event;
