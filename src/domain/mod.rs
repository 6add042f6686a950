//! The domain layer: every rule of the product lives here, and it is the only
//! layer that touches sea-orm. GraphQL resolvers and REST handlers call it.

pub mod accounts;
pub mod api_tokens;
pub mod batch;
pub mod caches;
pub mod change;
pub mod channels;
pub mod checklists;
pub mod comments;
pub mod conference;
mod context;
pub mod conversations;
pub mod deliveries;
pub mod delivery;
pub mod email;
pub mod event_log;
pub mod ids;
pub mod inbound;
pub mod instance;
pub mod integrations;
pub mod invitations;
pub mod json;
pub mod members;
pub mod messages;
pub mod messenger;
pub mod outbox;
pub mod pages;
pub mod pagination;
pub mod projects;
pub mod quick_calls;
pub mod scoped;
pub mod sealing;
pub mod sessions;
pub mod todo_lists;
pub mod todo_people;
pub mod todo_search;
pub mod todos;
pub mod views;
pub mod webhooks;

pub use context::Ctx;
