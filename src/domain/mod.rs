//! The domain layer: every rule of the product lives here, and it is the only
//! layer that touches sea-orm. GraphQL resolvers and REST handlers call it.

pub mod accounts;
pub mod api_tokens;
pub mod email;
pub mod event_log;
pub mod ids;
pub mod instance;
pub mod members;
pub mod pagination;
pub mod views;
