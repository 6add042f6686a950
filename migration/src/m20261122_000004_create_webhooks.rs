use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("webhooks")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("uid", 32))
                    .col(string_len("organization_id", 36))
                    .col(string("name"))
                    .col(text("url"))
                    .col(text("secret"))
                    .col(string_len("status", 16))
                    .col(boolean("enabled"))
                    .col(json_binary("events"))
                    .col(json_binary("project_ids"))
                    .col(string_len_null("created_by_id", 36))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("webhooks", "organization_id")
                            .to("organizations", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhooks_org")
                    .table("webhooks")
                    .col("organization_id")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("webhooks").to_owned())
            .await
    }
}
