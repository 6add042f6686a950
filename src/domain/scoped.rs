//! Finding a row by an id a caller gave. Malformed ids, unknown ids and ids
//! of another organization are all the same `NOT_FOUND`, so ids of other
//! tenants cannot be probed.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PrimaryKeyTrait, QueryFilter, Select};

use super::ids;
use crate::error::{AppError, AppResult};

/// The row of `E` with this id, within `scope` (the organization column and
/// the caller's organization) when the table has one.
pub async fn find_by_id<E>(
    conn: &impl ConnectionTrait,
    id: &str,
    what: &'static str,
    scope: Option<(E::Column, &str)>,
) -> AppResult<E::Model>
where
    E: EntityTrait,
    String: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    select_by_id::<E>(id, what, scope)?
        .one(conn)
        .await?
        .ok_or(AppError::NotFound(what))
}

/// The select [`find_by_id`] runs, for callers that read more in the same
/// statement; `NOT_FOUND` when `id` cannot be an id at all.
pub fn select_by_id<E>(
    id: &str,
    what: &'static str,
    scope: Option<(E::Column, &str)>,
) -> AppResult<Select<E>>
where
    E: EntityTrait,
    String: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    if !ids::is_valid(id) {
        return Err(AppError::NotFound(what));
    }
    let mut select = E::find_by_id(id.to_owned());
    if let Some((column, organization_id)) = scope {
        select = select.filter(column.eq(organization_id));
    }
    Ok(select)
}
