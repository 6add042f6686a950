use sea_orm_migration::{prelude::*, schema::*};

/// Integration points (two-way channels) and the webhooks they own.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("integration_points")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("organization_id", 36))
                    .col(string_len("project_id", 36))
                    .col(string_len("code", 200))
                    .col(string_len("type", 64))
                    .col(string_len("token_local", 64).unique_key())
                    .col(text("token_remote"))
                    .col(text("token_remote2"))
                    .col(text("url"))
                    .col(string_len("recv_svcscriptcode", 64))
                    .col(string_len("recv_svcscriptcode_ws", 64))
                    .col(string_len("send_svcscriptcode", 64))
                    .col(string_len("send_svcscriptcode_ws", 64))
                    .col(text("opts_title"))
                    .col(text("opts_comment"))
                    .col(boolean("opts_allow_files_api"))
                    .col(boolean("opts_issync"))
                    .col(string_len_null("webhook_id", 36))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("integration_points", "organization_id")
                            .to("organizations", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("integration_points", "project_id")
                            .to("projects", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_integration_points_org")
                    .table("integration_points")
                    .col("organization_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("webhooks")
                    .add_column(string_len_null("channel_id", 36))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("webhooks")
                    .drop_column("channel_id")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("integration_points").to_owned())
            .await
    }
}
