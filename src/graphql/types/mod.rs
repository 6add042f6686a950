//! GraphQL object types, converted from the domain's models and views.

mod account;
mod channel;
mod conference;
mod event;
mod integration;
mod message;
mod project;
mod todo;
mod webhook;

pub use account::{
    ApiToken, AuthPayload, CreatedApiToken, Invitation, Member, Organization, Role, User, Viewer,
};
pub use channel::{IntegrationPoint, IntegrationPointExt, IntegrationPointOpts};
pub use conference::{ConferenceRoom, QuickCall, Reservation};
pub use event::Event;
pub use integration::{Integration, IntegrationAction};
pub use message::{Message, Page, ReadReceipt};
pub use project::{Project, ProjectKind};
pub use todo::{Checklist, ChecklistItem, Comment, Todo, TodoList};
pub use webhook::{
    Delivery, DeliveryAttempt, DeliveryStatus, Webhook, WebhookMetadata, WebhookStatus,
};
