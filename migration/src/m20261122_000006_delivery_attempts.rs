use sea_orm_migration::{prelude::*, schema::*};

/// What workers need beyond the outbox: a per-delivery lease, a webhook's
/// health streak and rotated secret, and the attempt log.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        let added: [(&str, ColumnDef); 5] = [
            ("deliveries", timestamp_with_time_zone_null("locked_until")),
            (
                "webhooks",
                integer("consecutive_failures").default(0).to_owned(),
            ),
            ("webhooks", timestamp_with_time_zone_null("failing_since")),
            ("webhooks", text_null("previous_secret")),
            (
                "webhooks",
                timestamp_with_time_zone_null("previous_secret_expires_at"),
            ),
        ];
        for (table, mut column) in added {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("delivery_attempts")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("delivery_id", 36))
                    .col(string_len("webhook_id", 36))
                    .col(integer("attempt"))
                    .col(integer_null("status_code"))
                    .col(integer("latency_ms"))
                    .col(text("response_excerpt"))
                    .col(text_null("error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("delivery_attempts", "delivery_id")
                            .to("deliveries", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_delivery_attempts_delivery")
                    .table("delivery_attempts")
                    .col("delivery_id")
                    .col("attempt")
                    .to_owned(),
            )
            .await?;
        // redeliverFailed(webhookId, since) and failure listings.
        manager
            .create_index(
                Index::create()
                    .name("ix_deliveries_webhook_status")
                    .table("deliveries")
                    .col("webhook_id")
                    .col("status")
                    .col("updated_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_deliveries_webhook_status")
                    .table("deliveries")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("delivery_attempts").to_owned())
            .await?;
        for (table, column) in [
            ("webhooks", "previous_secret_expires_at"),
            ("webhooks", "previous_secret"),
            ("webhooks", "failing_since"),
            ("webhooks", "consecutive_failures"),
            ("deliveries", "locked_until"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
