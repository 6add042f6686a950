//! What an integration's inbound webhook creates: a chat message, a page,
//! or a todo (in a list named after the integration), authored by the
//! integration, with the same events as anything else in the project.

use entity::{inbound_receipt, integration, project, todo_list};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TryInsertResult,
    sea_query::Expr,
};

use super::{
    ids,
    integrations::service_of,
    messages::{self, Author, NewMessage},
    pages,
    todo_lists::{insert_todo_list, list_payload},
    todos::{self, NewTodo},
};
use crate::{
    domain::Ctx,
    domain::change::{Change, on_writer},
    error::{AppError, AppResult},
    events::types,
    inbound::Summary,
};

/// What a webhook created, or had created when the provider sent it before.
#[derive(Debug, Clone)]
pub struct Received {
    /// `message`, `page` or `todo`.
    pub kind: String,
    pub id: String,
    /// The provider had sent this delivery already; nothing new was made.
    pub duplicate: bool,
}

/// Posts `summary` into the integration's project per its action. With the
/// provider's `delivery_id`, a second delivery of it creates nothing and
/// answers what the first one created.
#[tracing::instrument(skip_all, fields(integration = %integration.id))]
pub async fn post_inbound(
    app: &Ctx,
    integration: &integration::Model,
    project: &project::Model,
    summary: Summary,
    delivery_id: Option<String>,
) -> AppResult<Received> {
    let (integration, project) = (integration.clone(), project.clone());
    on_writer(app, move |app| async move {
        record(&app, &integration, &project, &summary, delivery_id).await
    })
    .await
}

async fn record(
    app: &Ctx,
    integration: &integration::Model,
    project: &project::Model,
    summary: &Summary,
    delivery_id: Option<String>,
) -> AppResult<Received> {
    // No look-up of the delivery id first: repeats are rare, and the
    // receipt's unique index catches them when it is written below, which
    // saves every first delivery a query.
    // The project was read with the integration, outside this write
    // transaction: should both be deleted meanwhile (deleting a project
    // deletes its integrations), the inserts below fail on their foreign
    // keys and nothing is posted.
    let mut change = Change::begin_for(app, &integration.organization_id, None).await?;
    let (kind, id) = match integration.action.as_str() {
        "page" => {
            let page = pages::insert_page(
                &mut change,
                project,
                &summary.headline(),
                &summary.details(),
                None,
            )
            .await?;
            ("page", page.id)
        }
        "todo" => {
            let list = integration_list(&mut change, integration, project).await?;
            let input = NewTodo {
                todo_list_id: list.id.clone(),
                title: summary.headline(),
                text: Some(summary.details()).filter(|t| !t.is_empty()),
                ..NewTodo::default()
            };
            let todo = todos::insert_todo(&mut change, &list, project, None, input, None).await?;
            ("todo", todo.id)
        }
        _ => {
            let author = Author::Integration {
                id: integration.id.clone(),
                name: summary
                    .author
                    .clone()
                    .unwrap_or_else(|| service_of(integration).display_name().to_owned()),
            };
            let input = NewMessage {
                text: summary.message(),
                ..NewMessage::default()
            };
            let message = messages::insert_message(&mut change, project, author, input).await?;
            ("message", message.id)
        }
    };
    if let Some(delivery_id) = &delivery_id {
        let row = inbound_receipt::ActiveModel {
            id: Set(ids::new_id()),
            integration_id: Set(integration.id.clone()),
            provider_delivery_id: Set(delivery_id.clone()),
            created_kind: Set(kind.to_owned()),
            created_id: Set(id.clone()),
            created_at: Set(ids::now()),
        };
        let stored = inbound_receipt::Entity::insert(row)
            .on_conflict_do_nothing_on([
                inbound_receipt::Column::IntegrationId,
                inbound_receipt::Column::ProviderDeliveryId,
            ])
            .exec_without_returning(&*change)
            .await?;
        if !matches!(stored, TryInsertResult::Inserted(rows) if rows > 0) {
            // A repeat, or the same delivery racing in on another request
            // that won: answer what that one made, read in this transaction
            // (the winner may share it, see `Db::begin`, or has
            // committed: PostgreSQL's insert waited for it), and drop this
            // one's work.
            let seen = receipt(&*change, integration, delivery_id).await?;
            drop(change);
            return seen.ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "an inbound receipt conflicted but is not there"
                ))
            });
        }
    }
    change.commit().await?;
    Ok(Received {
        kind: kind.to_owned(),
        id,
        duplicate: false,
    })
}

async fn receipt(
    conn: &impl ConnectionTrait,
    integration: &integration::Model,
    delivery_id: &str,
) -> AppResult<Option<Received>> {
    Ok(inbound_receipt::Entity::find()
        .filter(inbound_receipt::Column::IntegrationId.eq(&integration.id))
        .filter(inbound_receipt::Column::ProviderDeliveryId.eq(delivery_id))
        .one(conn)
        .await?
        .map(|r| Received {
            kind: r.created_kind,
            id: r.created_id,
            duplicate: true,
        }))
}

/// The integration's todo list, created (with its event) on first use or
/// when the old one was deleted.
async fn integration_list(
    change: &mut Change<'_>,
    integration: &integration::Model,
    project: &project::Model,
) -> AppResult<todo_list::Model> {
    if let Some(id) = &integration.todo_list_id
        && let Some(list) = todo_list::Entity::find_by_id(id)
            .filter(todo_list::Column::ProjectId.eq(&project.id))
            .one(&**change)
            .await?
    {
        return Ok(list);
    }
    let title = match integration.description.trim() {
        "" => service_of(integration).display_name().to_owned(),
        description => description.chars().take(200).collect(),
    };
    let list = insert_todo_list(change, project, title, None).await?;
    let payload = list_payload(change.ctx(), &**change, &list, project).await?;
    change.emit(types::TODO_LIST_CREATED, Some(&project.id), payload, None);
    integration::Entity::update_many()
        .col_expr(
            integration::Column::TodoListId,
            Expr::value(list.id.clone()),
        )
        .filter(integration::Column::Id.eq(&integration.id))
        .exec(&**change)
        .await?;
    Ok(list)
}
