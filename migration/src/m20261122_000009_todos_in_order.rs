use sea_orm_migration::prelude::*;

use crate::indexes::index;

/// A project's todos are listed by (position, id): without an index in that
/// order every page read and sorted all of the project's todos, which grew
/// slower with each todo created.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                "todos",
                "ix_todos_project_position",
                &["project_id", "position", "id"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_todos_project_position")
                    .table("todos")
                    .to_owned(),
            )
            .await
    }
}
