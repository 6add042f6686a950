//! What the domain works with: storage, the delivery queue, the event
//! buses, settings, and what it keeps in memory. The edges hold it (see
//! `state::AppState`) and lend it to every domain function.

use std::sync::Arc;

use crate::{
    auth::{PrincipalCache, Throttle, jwt::JwtKeys},
    config::Settings,
    db::Db,
    domain::{caches::Caches, delivery::queue::Queue},
    events::{DeliveryBus, EventBus},
    metrics::Metrics,
    secrets::Secrets,
};

#[derive(Clone)]
pub struct Ctx {
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
    pub queue: Arc<dyn Queue>,
    pub metrics: Arc<Metrics>,
    /// Rows read often and changed rarely (see [`Caches`]).
    pub caches: Caches,
    /// Seals what the database keeps secret, and makes lookup values.
    pub secrets: Arc<Secrets>,
}
