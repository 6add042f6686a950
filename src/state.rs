//! What every request handler, resolver and job can reach.

use std::sync::Arc;

use crate::{
    auth::{PrincipalCache, Throttle, jwt::JwtKeys},
    config::Settings,
    db::Db,
    delivery::queue::DeliveryQueue,
    events::{DeliveryBus, EventBus},
    graphql::Documents,
    metrics::Metrics,
};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub jwt: JwtKeys,
    /// Credentials checked recently (see [`PrincipalCache`]).
    pub principals: Arc<PrincipalCache>,
    /// Password tries counted per account and per quick call.
    pub throttle: Arc<Throttle>,
    pub events: EventBus,
    /// Delivery state changes, for `deliveryUpdated`.
    pub deliveries: DeliveryBus,
    /// Where delivery jobs go once their rows have committed.
    pub queue: DeliveryQueue,
    pub redis: Option<redis::aio::ConnectionManager>,
    pub metrics: Arc<Metrics>,
    /// GraphQL documents parsed so far (see [`Documents`]).
    pub documents: Arc<Documents>,
}
