//! What every request handler, resolver and job can reach.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{auth::jwt::JwtKeys, config::Settings, events::EventBus, metrics::Metrics};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub jwt: JwtKeys,
    pub events: EventBus,
    pub redis: Option<redis::aio::ConnectionManager>,
    pub metrics: Arc<Metrics>,
}
