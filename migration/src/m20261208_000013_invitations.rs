use sea_orm_migration::{prelude::*, schema::*};

/// Invitations to join an organization: adding a person who may already
/// have an account asks them first, through a token only the inviting
/// admin is shown.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("invitations")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("organization_id", 36))
                    .col(string_len("email", 320))
                    .col(string_len("role", 16))
                    // The keyed hash of the token the invitee accepts with.
                    .col(string_len_uniq("token_hash", 64))
                    .col(string_len_null("invited_by_id", 36))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("accepted_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("invitations", "organization_id")
                            .to("organizations", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("invitations", "invited_by_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // An organization's list, and an invitee's.
        manager
            .create_index(
                Index::create()
                    .name("ix_invitations_org")
                    .table("invitations")
                    .col("organization_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_invitations_email")
                    .table("invitations")
                    .col("email")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("invitations").to_owned())
            .await
    }
}
