use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_create_accounts::Organizations;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(string_len(Events::Id, 36).primary_key())
                    .col(string_len(Events::OrganizationId, 36))
                    .col(string_len_null(Events::ProjectId, 36))
                    .col(string_len(Events::Type, 64))
                    .col(string_len_null(Events::ActorId, 36))
                    .col(json_binary(Events::CurrentValue))
                    .col(json_binary_null(Events::PreviousValue))
                    .col(timestamp_with_time_zone(Events::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Events::Table, Events::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Events are listed newest-first per organization; ids are UUIDv7, so
        // ordering by id is ordering by time.
        manager
            .create_index(
                Index::create()
                    .name("ix_events_org_id")
                    .table(Events::Table)
                    .col(Events::OrganizationId)
                    .col(Events::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Events::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    OrganizationId,
    ProjectId,
    Type,
    ActorId,
    CurrentValue,
    PreviousValue,
    CreatedAt,
}
