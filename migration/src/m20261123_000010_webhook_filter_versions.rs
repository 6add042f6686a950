use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

/// A version per organization of what decides which of its webhooks an
/// event reaches (their organization, `enabled`, `events`, `project_ids`,
/// `channel_id`), kept by triggers on every write to `webhooks` whatever
/// wrote it. Every change used to read its organization's enabled webhooks
/// inside its write transaction; now it reads this version in the same
/// statement that inserts its event and reads the webhooks only when the
/// version is new to its process (see `domain::outbox`).
///
/// A version is a random number, not a counter: a transaction that bumps
/// it and rolls back must not leave a later, different set of webhooks
/// under a number some process has already cached.
#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_TRIGGERS: [&str; 3] = [
    "CREATE TRIGGER webhooks_filters_inserted AFTER INSERT ON webhooks BEGIN
        INSERT OR REPLACE INTO webhook_filter_versions (organization_id, version)
        VALUES (NEW.organization_id, random());
    END",
    "CREATE TRIGGER webhooks_filters_updated
    AFTER UPDATE OF organization_id, enabled, events, project_ids, channel_id ON webhooks BEGIN
        INSERT OR REPLACE INTO webhook_filter_versions (organization_id, version)
        VALUES (OLD.organization_id, random());
        INSERT OR REPLACE INTO webhook_filter_versions (organization_id, version)
        VALUES (NEW.organization_id, random());
    END",
    "CREATE TRIGGER webhooks_filters_deleted AFTER DELETE ON webhooks BEGIN
        INSERT OR REPLACE INTO webhook_filter_versions (organization_id, version)
        VALUES (OLD.organization_id, random());
    END",
];

const POSTGRES_TRIGGER: [&str; 2] = [
    "CREATE FUNCTION webhook_filters_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            INSERT INTO webhook_filter_versions (organization_id, version)
            VALUES (OLD.organization_id, (random() * 9.2e18)::bigint)
            ON CONFLICT (organization_id) DO UPDATE SET version = EXCLUDED.version;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO webhook_filter_versions (organization_id, version)
            VALUES (NEW.organization_id, (random() * 9.2e18)::bigint)
            ON CONFLICT (organization_id) DO UPDATE SET version = EXCLUDED.version;
        END IF;
        RETURN NULL;
    END $$",
    "CREATE TRIGGER webhooks_filters_changed
    AFTER INSERT OR DELETE OR UPDATE OF organization_id, enabled, events, project_ids, channel_id
    ON webhooks FOR EACH ROW EXECUTE FUNCTION webhook_filters_changed()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("webhook_filter_versions")
                    .col(string_len("organization_id", 36).primary_key())
                    .col(big_integer("version"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Organizations that already have webhooks start at version 0.
        db.execute_unprepared(
            "INSERT INTO webhook_filter_versions (organization_id, version)
             SELECT DISTINCT organization_id, 0 FROM webhooks",
        )
        .await?;
        let triggers: &[&str] = match manager.get_database_backend() {
            DbBackend::Postgres => &POSTGRES_TRIGGER,
            _ => &SQLITE_TRIGGERS,
        };
        for sql in triggers {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let drops: &[&str] = match manager.get_database_backend() {
            DbBackend::Postgres => &[
                "DROP TRIGGER webhooks_filters_changed ON webhooks",
                "DROP FUNCTION webhook_filters_changed()",
            ],
            _ => &[
                "DROP TRIGGER webhooks_filters_inserted",
                "DROP TRIGGER webhooks_filters_updated",
                "DROP TRIGGER webhooks_filters_deleted",
            ],
        };
        for sql in drops {
            db.execute_unprepared(sql).await?;
        }
        manager
            .drop_table(Table::drop().table("webhook_filter_versions").to_owned())
            .await
    }
}
