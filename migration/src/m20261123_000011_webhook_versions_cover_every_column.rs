use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

/// The organization's webhook version (`webhook_filter_versions`) now
/// changes on a write to any column of `webhooks`, not only the columns
/// that decide which webhooks an event reaches. Each process keeps the
/// whole rows under that version, and an event's deliveries are handed to
/// the in-process workers with the rows their event's insert saw: their
/// URL, secrets, name and health must be as current as their filters (see
/// `domain::outbox`).
#[derive(DeriveMigrationName)]
pub struct Migration;

/// What fires the update trigger: before, the columns matching reads
/// (`m20261123_000010`); after, any column.
const FILTER_COLUMNS: &str = "UPDATE OF organization_id, enabled, events, project_ids, channel_id";
const ANY_COLUMN: &str = "UPDATE";

/// SQLite's update trigger `name`, fired by `update`.
fn sqlite_trigger(name: &str, update: &str) -> String {
    format!(
        "CREATE TRIGGER {name} AFTER {update} ON webhooks BEGIN
            INSERT OR REPLACE INTO webhook_filter_versions (organization_id, version)
            VALUES (OLD.organization_id, random());
            INSERT OR REPLACE INTO webhook_filter_versions (organization_id, version)
            VALUES (NEW.organization_id, random());
        END"
    )
}

/// PostgreSQL's one trigger `name` (inserts, deletes, and `update`).
fn postgres_trigger(name: &str, update: &str) -> String {
    format!(
        "CREATE TRIGGER {name} AFTER INSERT OR DELETE OR {update}
        ON webhooks FOR EACH ROW EXECUTE FUNCTION webhook_filters_changed()"
    )
}

/// Swaps the update trigger for the one that covers every column (`up`)
/// or back. The new one has a name of its own: on SQLite, creating a
/// trigger under the name just dropped failed with "already exists".
async fn replace_trigger(manager: &SchemaManager<'_>, up: bool) -> Result<(), DbErr> {
    let postgres = manager.get_database_backend() == DbBackend::Postgres;
    let (old, new) = match postgres {
        true => ("webhooks_filters_changed", "webhooks_changed"),
        false => ("webhooks_filters_updated", "webhooks_updated"),
    };
    let (dropped, created, update) = match up {
        true => (old, new, ANY_COLUMN),
        false => (new, old, FILTER_COLUMNS),
    };
    let (drop, create) = match postgres {
        true => (
            format!("DROP TRIGGER {dropped} ON webhooks"),
            postgres_trigger(created, update),
        ),
        false => (
            format!("DROP TRIGGER {dropped}"),
            sqlite_trigger(created, update),
        ),
    };
    let db = manager.get_connection();
    db.execute_unprepared(&drop).await?;
    db.execute_unprepared(&create).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_trigger(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_trigger(manager, false).await
    }
}
