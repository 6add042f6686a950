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

/// The update trigger of `m20261123_000010`, before and after.
const SQLITE_BEFORE: &str = "CREATE TRIGGER webhooks_filters_updated
    AFTER UPDATE OF organization_id, enabled, events, project_ids, channel_id ON webhooks BEGIN
        INSERT OR REPLACE INTO webhook_filter_versions (organization_id, version)
        VALUES (OLD.organization_id, random());
        INSERT OR REPLACE INTO webhook_filter_versions (organization_id, version)
        VALUES (NEW.organization_id, random());
    END";
const SQLITE_AFTER: &str = "CREATE TRIGGER webhooks_updated
    AFTER UPDATE ON webhooks BEGIN
        INSERT OR REPLACE INTO webhook_filter_versions (organization_id, version)
        VALUES (OLD.organization_id, random());
        INSERT OR REPLACE INTO webhook_filter_versions (organization_id, version)
        VALUES (NEW.organization_id, random());
    END";
const POSTGRES_BEFORE: &str = "CREATE TRIGGER webhooks_filters_changed
    AFTER INSERT OR DELETE OR UPDATE OF organization_id, enabled, events, project_ids, channel_id
    ON webhooks FOR EACH ROW EXECUTE FUNCTION webhook_filters_changed()";
const POSTGRES_AFTER: &str = "CREATE TRIGGER webhooks_changed
    AFTER INSERT OR DELETE OR UPDATE
    ON webhooks FOR EACH ROW EXECUTE FUNCTION webhook_filters_changed()";

/// Swaps the update trigger for the one that covers every column (`up`)
/// or back. The new one has a name of its own: on SQLite, creating a
/// trigger under the name just dropped failed with "already exists".
async fn replace_trigger(manager: &SchemaManager<'_>, up: bool) -> Result<(), DbErr> {
    let (before, after) = match manager.get_database_backend() {
        DbBackend::Postgres => (
            (
                "DROP TRIGGER webhooks_filters_changed ON webhooks",
                POSTGRES_BEFORE,
            ),
            ("DROP TRIGGER webhooks_changed ON webhooks", POSTGRES_AFTER),
        ),
        _ => (
            ("DROP TRIGGER webhooks_filters_updated", SQLITE_BEFORE),
            ("DROP TRIGGER webhooks_updated", SQLITE_AFTER),
        ),
    };
    let ((drop, _), (_, create)) = match up {
        true => (before, after),
        false => (after, before),
    };
    let db = manager.get_connection();
    db.execute_unprepared(drop).await?;
    db.execute_unprepared(create).await?;
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
