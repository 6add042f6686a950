use sea_orm_migration::{prelude::*, schema::*};

/// Secrets and tokens are stored sealed (encrypted by the server, see
/// `src/secrets`). Tokens that requests present are found by a keyed hash
/// of them, kept in new columns; the sealed tokens themselves are longer
/// than the 64 characters PostgreSQL's columns allowed. The server seals
/// the rows already there at its next start. Down drops the hashes; what
/// was sealed stays sealed.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, sealed token column, its lookup column)
const LOOKED_UP: [(&str, &str, &str); 3] = [
    ("integrations", "token", "token_hash"),
    ("integration_points", "token_local", "token_local_hash"),
    ("quick_calls", "token", "token_hash"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, token, hash) in LOOKED_UP {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(string_len_null(hash, 64))
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name(format!("ux_{table}_{hash}"))
                        .table(table)
                        .col(hash)
                        .unique()
                        .to_owned(),
                )
                .await?;
            if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
                manager
                    .alter_table(
                        Table::alter()
                            .table(table)
                            .modify_column(ColumnDef::new(token).text().not_null())
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, _, hash) in LOOKED_UP {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("ux_{table}_{hash}"))
                        .table(table)
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(Table::alter().table(table).drop_column(hash).to_owned())
                .await?;
        }
        Ok(())
    }
}
