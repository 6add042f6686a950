//! What every request handler, resolver and job can reach.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{PrincipalCache, jwt::JwtKeys},
    config::Settings,
    delivery::queue::DeliveryQueue,
    events::{DeliveryBus, EventBus},
    metrics::Metrics,
};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub jwt: JwtKeys,
    /// Credentials checked recently (see [`PrincipalCache`]).
    pub principals: Arc<PrincipalCache>,
    pub events: EventBus,
    /// Delivery state changes, for `deliveryUpdated`.
    pub deliveries: DeliveryBus,
    /// Where delivery jobs go once their rows have committed.
    pub queue: DeliveryQueue,
    pub redis: Option<redis::aio::ConnectionManager>,
    pub metrics: Arc<Metrics>,
    /// SQLite takes one writer at a time. Writers queue here, before they
    /// take a pooled connection, so a queue of writers can never hold every
    /// connection while the one with the lock waits for another.
    pub sqlite_writer: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// A write transaction, holding SQLite's writer slot until it ends.
pub struct WriteTxn {
    pub txn: sea_orm::DatabaseTransaction,
    _slot: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTxn {
    /// Commits and hands SQLite's writer slot to the next writer at once,
    /// before the caller goes on to queue jobs or publish events.
    pub async fn commit(self) -> Result<(), sea_orm::DbErr> {
        self.txn.commit().await
    }
}

impl AppState {
    /// Begins a transaction that will write (see [`crate::db::begin_write`]).
    pub async fn begin_write(&self) -> Result<WriteTxn, sea_orm::DbErr> {
        let slot = match &self.sqlite_writer {
            Some(writer) => Some(writer.clone().lock_owned().await),
            None => None,
        };
        Ok(WriteTxn {
            txn: crate::db::begin_write(&self.db).await?,
            _slot: slot,
        })
    }
}
