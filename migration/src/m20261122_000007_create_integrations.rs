use sea_orm_migration::{prelude::*, schema::*};

/// Inbound integrations and the provider deliveries they have taken.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("integrations")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("organization_id", 36))
                    .col(string_len("project_id", 36))
                    .col(string_len("service", 32))
                    .col(string_len("action", 8))
                    .col(text("description"))
                    .col(text_null("secret"))
                    .col(string_len("token", 64).unique_key())
                    .col(string_len_null("todo_list_id", 36))
                    .col(string_len_null("created_by_id", 36))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("integrations", "organization_id")
                            .to("organizations", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("integrations", "project_id")
                            .to("projects", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_integrations_project")
                    .table("integrations")
                    .col("project_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("inbound_receipts")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("integration_id", 36))
                    .col(string_len("provider_delivery_id", 200))
                    .col(string_len("created_kind", 16))
                    .col(string_len("created_id", 36))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("inbound_receipts", "integration_id")
                            .to("integrations", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The de-duplication itself: a provider's retry fails this index.
        manager
            .create_index(
                Index::create()
                    .name("ux_inbound_receipts_delivery")
                    .table("inbound_receipts")
                    .col("integration_id")
                    .col("provider_delivery_id")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("inbound_receipts").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("integrations").to_owned())
            .await
    }
}
