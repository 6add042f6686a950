//! What every request handler, resolver and job can reach.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{PrincipalCache, Throttle, jwt::JwtKeys},
    config::Settings,
    db::Statements,
    delivery::queue::DeliveryQueue,
    events::{DeliveryBus, EventBus},
    graphql::Documents,
    metrics::Metrics,
    writer::{SqliteWriter, WriteTxn},
};

#[derive(Clone)]
pub struct AppState {
    /// Statements that run on their own: every read, and single-statement
    /// writes (see [`Statements`]).
    pub db: Statements,
    /// sea-orm's connection over sqlx's pool: SQLite's write transactions
    /// (see [`Self::begin_write`]), health checks.
    pub transactions: DatabaseConnection,
    /// PostgreSQL's write transactions, on connections lent without sqlx's
    /// ping (see [`Statements::begin`]); `None` on SQLite.
    pub write_connections: Option<Statements>,
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
    /// SQLite takes one writer at a time. Writers queue here, before they
    /// take a pooled connection, so a queue of writers can never hold every
    /// connection while the one with the lock waits for another.
    pub sqlite_writer: Option<Arc<SqliteWriter>>,
}

impl AppState {
    /// Begins a transaction that will write: on SQLite through its one
    /// writer ([`SqliteWriter::begin`]), else on the write pool
    /// ([`Statements::begin`]).
    pub async fn begin_write(&self) -> Result<WriteTxn, sea_orm::DbErr> {
        if let Some(writer) = &self.sqlite_writer {
            return writer.begin(&self.transactions).await;
        }
        // Every state but SQLite's is built with a write pool; one without
        // would share the single statements' pool.
        let connections = self.write_connections.as_ref().unwrap_or(&self.db);
        Ok(WriteTxn::alone(connections.begin()))
    }

    /// SQLite's writer slot, taken ahead of the API's queued writes (see
    /// [`SqliteWriter::take_alone`]), for one statement that commits on its
    /// own: a delivery's lease. `None` on other databases, which need no
    /// slot.
    pub async fn writer_slot_first(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.sqlite_writer {
            Some(writer) => Some(writer.take_alone(true).await),
            None => None,
        }
    }

    /// Runs `work`, a request that writes: on SQLite on the writer's own
    /// thread (see [`SqliteWriter::run`]), else in place.
    pub async fn run_write<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> T {
        match &self.sqlite_writer {
            Some(writer) => writer.run(work).await,
            None => work.await,
        }
    }
}
