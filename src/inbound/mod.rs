//! Inbound webhooks from third-party services: reading a service's own
//! request (JSON, a form, or a query string), checking its signature, and
//! summarising it for people. Pure: nothing here touches the database;
//! `domain::integrations` stores what these functions read.

mod fields;
mod request;
mod service;
mod services;
mod summary;
mod verify;

pub use request::{Request, parse_body};
pub use service::{SERVICES, Service};
pub use summary::{Reading, Summary};
pub use verify::verify;

/// What `service` makes of `request`: a handshake to answer, or something
/// to post into the project.
pub fn read(service: Service, request: &Request) -> Reading {
    services::read(service, request)
}

/// The provider's own id for this delivery, when it sends one, so that a
/// retry of the same delivery is recognised.
pub fn delivery_id(service: Service, request: &Request) -> Option<String> {
    request
        .header("webhook-id")
        .or_else(|| services::delivery_id(service, request))
        .map(|id| id.chars().take(200).collect())
}
