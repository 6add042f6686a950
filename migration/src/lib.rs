//! Database migrations, run at every start of `junction serve`/`worker` and by
//! `junction migrate`. Each migration writes its own `down`.

pub use sea_orm_migration::prelude::*;

mod indexes;

mod m20261122_000001_create_accounts;
mod m20261122_000002_create_events;
mod m20261122_000003_create_workspace;
mod m20261122_000004_create_webhooks;
mod m20261122_000005_create_deliveries;
mod m20261122_000006_delivery_attempts;
mod m20261122_000007_create_integrations;
mod m20261122_000008_create_integration_points;
mod m20261122_000009_todos_in_order;
mod m20261123_000010_webhook_filter_versions;
mod m20261123_000011_webhook_versions_cover_every_column;
mod m20261123_000012_partial_delivery_indexes;
mod m20261208_000013_invitations;
mod m20261208_000014_sealed_tokens;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_accounts::Migration),
            Box::new(m20261122_000002_create_events::Migration),
            Box::new(m20261122_000003_create_workspace::Migration),
            Box::new(m20261122_000004_create_webhooks::Migration),
            Box::new(m20261122_000005_create_deliveries::Migration),
            Box::new(m20261122_000006_delivery_attempts::Migration),
            Box::new(m20261122_000007_create_integrations::Migration),
            Box::new(m20261122_000008_create_integration_points::Migration),
            Box::new(m20261122_000009_todos_in_order::Migration),
            Box::new(m20261123_000010_webhook_filter_versions::Migration),
            Box::new(m20261123_000011_webhook_versions_cover_every_column::Migration),
            Box::new(m20261123_000012_partial_delivery_indexes::Migration),
            Box::new(m20261208_000013_invitations::Migration),
            Box::new(m20261208_000014_sealed_tokens::Migration),
        ]
    }
}
