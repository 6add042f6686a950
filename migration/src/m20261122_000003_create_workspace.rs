//! The collaboration workspace: projects and everything that lives in them.

use sea_orm_migration::{prelude::*, schema::*};

use crate::indexes::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables in creation order; dropped in reverse.
const TABLES: [&str; 15] = [
    "projects",
    "project_members",
    "messages",
    "message_reads",
    "pages",
    "todo_lists",
    "todos",
    "todo_assignees",
    "todo_tags",
    "checklists",
    "checklist_items",
    "comments",
    "conference_rooms",
    "reservations",
    "quick_calls",
];

fn id() -> ColumnDef {
    string_len("id", 36).primary_key().to_owned()
}

fn reference(name: &'static str) -> ColumnDef {
    string_len(name, 36)
}

fn optional_reference(name: &'static str) -> ColumnDef {
    string_len_null(name, 36)
}

fn created_at() -> ColumnDef {
    timestamp_with_time_zone("created_at")
}

fn updated_at() -> ColumnDef {
    timestamp_with_time_zone("updated_at")
}

/// A foreign key whose rows go when their parent goes.
fn owned_by(
    table: &'static str,
    column: &'static str,
    parent: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(parent, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("projects")
                .col(id())
                .col(reference("organization_id"))
                .col(string_len("kind", 16))
                .col(string("name"))
                .col(text("description"))
                .col(boolean("archived"))
                .col(boolean("is_public"))
                .col(boolean("is_message_thread"))
                .col(optional_reference("created_by_id"))
                .col(optional_reference("admin_user_id"))
                .col(created_at())
                .col(updated_at())
                .foreign_key(&mut owned_by(
                    "projects",
                    "organization_id",
                    "organizations",
                ))
                .to_owned(),
            Table::create()
                .table("project_members")
                .col(id())
                .col(reference("project_id"))
                .col(reference("user_id"))
                .col(created_at())
                .foreign_key(&mut owned_by("project_members", "project_id", "projects"))
                .foreign_key(&mut owned_by("project_members", "user_id", "users"))
                .to_owned(),
            Table::create()
                .table("messages")
                .col(id())
                .col(reference("organization_id"))
                .col(reference("project_id"))
                .col(optional_reference("author_user_id"))
                .col(optional_reference("author_integration_id"))
                .col(string_null("author_name"))
                .col(text("text"))
                .col(json_binary("mentions"))
                .col(boolean("sealed"))
                .col(created_at())
                .col(updated_at())
                .foreign_key(&mut owned_by("messages", "project_id", "projects"))
                .to_owned(),
            Table::create()
                .table("message_reads")
                .col(id())
                .col(reference("message_id"))
                .col(reference("user_id"))
                .col(timestamp_with_time_zone("read_at"))
                .foreign_key(&mut owned_by("message_reads", "message_id", "messages"))
                .foreign_key(&mut owned_by("message_reads", "user_id", "users"))
                .to_owned(),
            Table::create()
                .table("pages")
                .col(id())
                .col(reference("organization_id"))
                .col(reference("project_id"))
                .col(string("title"))
                .col(text("body"))
                .col(optional_reference("created_by_id"))
                .col(created_at())
                .col(updated_at())
                .foreign_key(&mut owned_by("pages", "project_id", "projects"))
                .to_owned(),
            Table::create()
                .table("todo_lists")
                .col(id())
                .col(reference("organization_id"))
                .col(reference("project_id"))
                .col(string("title"))
                .col(double("position"))
                .col(optional_reference("created_by_id"))
                .col(created_at())
                .col(updated_at())
                .foreign_key(&mut owned_by("todo_lists", "project_id", "projects"))
                .to_owned(),
            Table::create()
                .table("todos")
                .col(id())
                .col(reference("organization_id"))
                .col(reference("project_id"))
                .col(reference("todo_list_id"))
                .col(string("title"))
                .col(text_null("text"))
                .col(text_null("html"))
                .col(double("position"))
                .col(boolean("done"))
                .col(boolean("archived"))
                .col(timestamp_with_time_zone_null("started_at"))
                .col(timestamp_with_time_zone_null("dued_at"))
                .col(optional_reference("created_by_id"))
                .col(created_at())
                .col(updated_at())
                .foreign_key(&mut owned_by("todos", "todo_list_id", "todo_lists"))
                .foreign_key(&mut owned_by("todos", "project_id", "projects"))
                .to_owned(),
            Table::create()
                .table("todo_assignees")
                .col(id())
                .col(reference("todo_id"))
                .col(reference("user_id"))
                .col(created_at())
                .foreign_key(&mut owned_by("todo_assignees", "todo_id", "todos"))
                .foreign_key(&mut owned_by("todo_assignees", "user_id", "users"))
                .to_owned(),
            Table::create()
                .table("todo_tags")
                .col(id())
                .col(reference("todo_id"))
                .col(string_len("tag", 100))
                .col(created_at())
                .foreign_key(&mut owned_by("todo_tags", "todo_id", "todos"))
                .to_owned(),
            Table::create()
                .table("checklists")
                .col(id())
                .col(reference("todo_id"))
                .col(string("title"))
                .col(double("position"))
                .col(optional_reference("created_by_id"))
                .col(created_at())
                .col(updated_at())
                .foreign_key(&mut owned_by("checklists", "todo_id", "todos"))
                .to_owned(),
            Table::create()
                .table("checklist_items")
                .col(id())
                .col(reference("checklist_id"))
                .col(string("title"))
                .col(boolean("done"))
                .col(double("position"))
                .col(optional_reference("created_by_id"))
                .col(created_at())
                .col(updated_at())
                .foreign_key(&mut owned_by(
                    "checklist_items",
                    "checklist_id",
                    "checklists",
                ))
                .to_owned(),
            Table::create()
                .table("comments")
                .col(id())
                .col(reference("organization_id"))
                .col(reference("project_id"))
                .col(reference("todo_id"))
                .col(text("text"))
                .col(text_null("html"))
                .col(optional_reference("created_by_id"))
                .col(created_at())
                .col(updated_at())
                .foreign_key(&mut owned_by("comments", "todo_id", "todos"))
                .to_owned(),
            Table::create()
                .table("conference_rooms")
                .col(id())
                .col(reference("organization_id"))
                .col(string("name"))
                .col(text("description"))
                .col(integer("capacity"))
                .col(created_at())
                .col(updated_at())
                .foreign_key(&mut owned_by(
                    "conference_rooms",
                    "organization_id",
                    "organizations",
                ))
                .to_owned(),
            Table::create()
                .table("reservations")
                .col(id())
                .col(reference("organization_id"))
                .col(reference("conference_room_id"))
                .col(string("title"))
                .col(timestamp_with_time_zone("starts_at"))
                .col(timestamp_with_time_zone("ends_at"))
                .col(optional_reference("created_by_id"))
                .col(created_at())
                .foreign_key(&mut owned_by(
                    "reservations",
                    "conference_room_id",
                    "conference_rooms",
                ))
                .to_owned(),
            Table::create()
                .table("quick_calls")
                .col(id())
                .col(reference("organization_id"))
                .col(string_len("token", 64))
                .col(string_null("password_hash"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(optional_reference("created_by_id"))
                .col(created_at())
                .foreign_key(&mut owned_by(
                    "quick_calls",
                    "organization_id",
                    "organizations",
                ))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            index(
                "projects",
                "ix_projects_org",
                &["organization_id", "id"],
                false,
            ),
            index(
                "project_members",
                "ux_project_members",
                &["project_id", "user_id"],
                true,
            ),
            index(
                "project_members",
                "ix_project_members_user",
                &["user_id"],
                false,
            ),
            index(
                "messages",
                "ix_messages_project",
                &["project_id", "id"],
                false,
            ),
            index(
                "message_reads",
                "ux_message_reads",
                &["message_id", "user_id"],
                true,
            ),
            index("pages", "ix_pages_project", &["project_id", "id"], false),
            index(
                "todo_lists",
                "ix_todo_lists_project",
                &["project_id", "position"],
                false,
            ),
            index("todos", "ix_todos_project", &["project_id", "id"], false),
            index(
                "todos",
                "ix_todos_list",
                &["todo_list_id", "position"],
                false,
            ),
            index(
                "todo_assignees",
                "ux_todo_assignees",
                &["todo_id", "user_id"],
                true,
            ),
            index(
                "todo_assignees",
                "ix_todo_assignees_user",
                &["user_id"],
                false,
            ),
            index("todo_tags", "ux_todo_tags", &["todo_id", "tag"], true),
            index("checklists", "ix_checklists_todo", &["todo_id"], false),
            index(
                "checklist_items",
                "ix_checklist_items_checklist",
                &["checklist_id"],
                false,
            ),
            index("comments", "ix_comments_todo", &["todo_id", "id"], false),
            index(
                "conference_rooms",
                "ix_conference_rooms_org",
                &["organization_id"],
                false,
            ),
            index(
                "reservations",
                "ix_reservations_room",
                &["conference_room_id", "starts_at"],
                false,
            ),
            index("quick_calls", "ux_quick_calls_token", &["token"], true),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(*table).to_owned())
                .await?;
        }
        Ok(())
    }
}
