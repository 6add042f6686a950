//! Reading a project's todos in list order, filtered, and only the columns
//! a caller will use.

use entity::{project, todo, todo_assignee};
use sea_orm::{
    ColumnTrait, DbErr, EntityTrait, Iterable, QueryFilter, QueryResult, sea_query::Query,
};

use super::{
    Ctx,
    pagination::{Page, PageRequest, fetch_columns_by_position, fetch_page_by_position},
    todos::TodoFilter,
};
use crate::error::AppResult;

/// A project's todos in list order, filtered.
/// `project` must come from [`super::projects::project_for_read`]: holding it
/// is the proof that the caller may see the project.
///
/// `columns` names the columns the caller will use; `None` reads them all.
/// A todo read with fewer holds its type's default in every other field
/// (an empty title, the epoch), except the ones that say which todo it is
/// and where it lives (`IDENTITY`), always read.
pub async fn list_todos(
    app: &Ctx,
    project: &project::Model,
    filter: &TodoFilter,
    page: &PageRequest,
    columns: Option<&[todo::Column]>,
) -> AppResult<Page<todo::Model>> {
    let mut select = todo::Entity::find().filter(todo::Column::ProjectId.eq(&project.id));
    if let Some(list_id) = &filter.todo_list_id {
        select = select.filter(todo::Column::TodoListId.eq(list_id.as_str()));
    }
    if let Some(done) = filter.done {
        select = select.filter(todo::Column::Done.eq(done));
    }
    if let Some(archived) = filter.archived {
        select = select.filter(todo::Column::Archived.eq(archived));
    }
    if let Some(due_before) = filter.due_before {
        select = select.filter(todo::Column::DuedAt.lt(due_before));
    }
    if let Some(assignee) = &filter.assignee_id {
        let assigned = Query::select()
            .column(todo_assignee::Column::TodoId)
            .from(todo_assignee::Entity)
            .and_where(todo_assignee::Column::UserId.eq(assignee.as_str()))
            .to_owned();
        select = select.filter(todo::Column::Id.in_subquery(assigned));
    }
    let (position, id) = (todo::Column::Position, todo::Column::Id);
    let Some(wanted) = columns else {
        return fetch_page_by_position(&app.db, select, position, id, page).await;
    };
    // Each column once, in the order fetched; `at` finds a column's place
    // in the row (by the column's index in the entity), computed once for
    // the whole page.
    let mut columns = Vec::new();
    let mut at = vec![None; todo::Column::iter().count()];
    for column in IDENTITY.iter().chain(wanted) {
        if at[*column as usize].is_none() {
            at[*column as usize] = Some(columns.len());
            columns.push(*column);
        }
    }
    fetch_columns_by_position(&app.db, select, position, id, page, &columns, |row| {
        partial_todo(row, &at)
    })
    .await
}

/// The columns every partial read of todos fetches: which todo it is, where
/// it lives, and its place in the list (its cursor).
const IDENTITY: [todo::Column; 4] = [
    todo::Column::Id,
    todo::Column::OrganizationId,
    todo::Column::ProjectId,
    todo::Column::Position,
];

/// A todo from a row; `at[column as usize]` is the column's place in the
/// row, or `None` where the field holds its type's default.
fn partial_todo(row: &QueryResult, at: &[Option<usize>]) -> Result<todo::Model, DbErr> {
    macro_rules! get {
        ($column:ident) => {
            match at[todo::Column::$column as usize] {
                Some(index) => row.try_get_by_index(index)?,
                None => Default::default(),
            }
        };
    }
    // A struct literal, so that a column added to the entity fails to
    // compile here until it is read too.
    Ok(todo::Model {
        id: get!(Id),
        organization_id: get!(OrganizationId),
        project_id: get!(ProjectId),
        todo_list_id: get!(TodoListId),
        title: get!(Title),
        text: get!(Text),
        html: get!(Html),
        position: get!(Position),
        done: get!(Done),
        archived: get!(Archived),
        started_at: get!(StartedAt),
        dued_at: get!(DuedAt),
        created_by_id: get!(CreatedById),
        created_at: get!(CreatedAt),
        updated_at: get!(UpdatedAt),
    })
}
