//! Keyset pagination over UUIDv7 ids, shared by every list in the API.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityName, EntityTrait, FromQueryResult,
    IdenStatic, Iterable, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
    TryIntoModel,
    sea_query::{Expr, ExprTrait, IntoCondition, Query},
};

use crate::error::{AppError, AppResult};

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// `first`/`after` as the caller gave them, checked.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<String>,
    /// Whether to count the whole list too (a second query); skipped when
    /// the caller does not ask for the total.
    pub count_total: bool,
}

impl PageRequest {
    pub fn new(first: Option<i32>, after: Option<String>) -> AppResult<Self> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if n < 0 => return Err(AppError::validation("`first` must not be negative")),
            Some(n) if n as u64 > MAX_PAGE_SIZE => {
                return Err(AppError::validation(format!(
                    "`first` must be at most {MAX_PAGE_SIZE}"
                )));
            }
            Some(n) => n as u64,
        };
        Ok(Self {
            first,
            after,
            count_total: true,
        })
    }
}

/// One page of a list, with the total size of the list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
    /// `None` when the request did not ask for it.
    pub total_count: Option<u64>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next_page: self.has_next_page,
            total_count: self.total_count,
        }
    }
}

impl<T> Page<T> {
    /// A page from the rows fetched for `request` (one more than asked
    /// when another page follows).
    fn of(mut items: Vec<T>, request: &PageRequest, total_count: Option<u64>) -> Self {
        let has_next_page = items.len() as u64 > request.first;
        items.truncate(request.first as usize);
        Page {
            items,
            has_next_page,
            total_count,
        }
    }

    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            has_next_page: self.has_next_page,
            total_count: self.total_count,
        })
    }
}

/// Order of a keyset page: oldest first (members, tokens) or newest first (events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ascending,
    Descending,
}

/// Runs `select` (already filtered to the caller's scope) as one page keyed
/// on `id_column`, plus a count of the whole filtered list.
pub async fn fetch_page<E, C>(
    db: &impl sea_orm::ConnectionTrait,
    select: Select<E>,
    id_column: C,
    direction: Direction,
    page: &PageRequest,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ColumnTrait,
{
    let total_count = match page.count_total {
        true => Some(select.clone().count(db).await?),
        false => None,
    };
    let mut query = select;
    if let Some(after) = &page.after {
        let cond = match direction {
            Direction::Ascending => id_column.gt(after.as_str()),
            Direction::Descending => id_column.lt(after.as_str()),
        };
        query = query.filter(cond.into_condition());
    }
    query = match direction {
        Direction::Ascending => query.order_by_asc(id_column),
        Direction::Descending => query.order_by_desc(id_column),
    };
    let items = query.limit(page.first + 1).all(db).await?;
    Ok(Page::of(items, page, total_count))
}

/// A cursor for lists ordered by a float position: `"<position>|<id>"`.
pub fn position_cursor(position: f64, id: &str) -> String {
    format!("{position}|{id}")
}

fn parse_position_cursor(cursor: &str) -> AppResult<(f64, String)> {
    let bad = || AppError::validation("`after` is not a cursor of this list");
    let (position, id) = cursor.split_once('|').ok_or_else(bad)?;
    Ok((position.parse().map_err(|_| bad())?, id.to_owned()))
}

/// Like [`fetch_page`], for lists kept in a user-chosen order: sorted by
/// `position` then id, with cursors from [`position_cursor`].
pub async fn fetch_page_by_position<E, P, I>(
    db: &impl sea_orm::ConnectionTrait,
    select: Select<E>,
    position_column: P,
    id_column: I,
    page: &PageRequest,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    P: ColumnTrait,
    I: ColumnTrait,
{
    let columns: Vec<E::Column> = E::Column::iter().collect();
    let decode = |row: &sea_orm::QueryResult| E::Model::from_query_result(row, "");
    fetch_columns_by_position(
        db,
        select,
        position_column,
        id_column,
        page,
        &columns,
        decode,
    )
    .await
}

/// Like [`fetch_page_by_position`], fetching only `columns` (in that
/// order) and turning each row into an item with `decode`.
pub async fn fetch_columns_by_position<E, P, I, T>(
    db: &impl sea_orm::ConnectionTrait,
    select: Select<E>,
    position_column: P,
    id_column: I,
    page: &PageRequest,
    columns: &[E::Column],
    decode: impl Fn(&sea_orm::QueryResult) -> Result<T, sea_orm::DbErr>,
) -> AppResult<Page<T>>
where
    E: EntityTrait,
    E::Model: Sync,
    P: ColumnTrait,
    I: ColumnTrait,
{
    let total_count = match page.count_total {
        true => Some(select.clone().count(db).await?),
        false => None,
    };
    let mut query = select;
    if let Some(after) = &page.after {
        let (position, id) = parse_position_cursor(after)?;
        query = query.filter(
            sea_orm::Condition::any()
                .add(position_column.gt(position))
                .add(
                    sea_orm::Condition::all()
                        .add(position_column.eq(position))
                        .add(id_column.gt(id)),
                ),
        );
    }
    // One row more than asked, to tell whether another page follows.
    let query = query
        .order_by_asc(position_column)
        .order_by_asc(id_column)
        .limit(page.first + 1)
        .select_only()
        .columns(columns.iter().copied());
    let rows = db
        .query_all_raw(query.build(db.get_database_backend()))
        .await?;
    let items = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::of(items, page, total_count))
}

/// Gap between consecutive positions, as Blue uses (65535, 131070, …).
pub const POSITION_STEP: f64 = 65535.0;

/// The position after the last of `siblings` (already filtered to one
/// parent): where a todo moved to the end of another list goes.
pub async fn end_position<E, P>(
    conn: &impl sea_orm::ConnectionTrait,
    siblings: Select<E>,
    position_column: P,
) -> AppResult<f64>
where
    E: EntityTrait,
    P: ColumnTrait,
{
    let last: Option<f64> = last_position(siblings, position_column)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(last.unwrap_or(0.0) + POSITION_STEP)
}

/// Selects the position of the last of `siblings`.
fn last_position<E, P>(siblings: Select<E>, position_column: P) -> Select<E>
where
    E: EntityTrait,
    P: ColumnTrait,
{
    siblings
        .select_only()
        .column(position_column)
        .order_by_desc(position_column)
}

/// The position after the last of `siblings`, as an expression: for a
/// statement that reads (or inserts) where a new row goes.
pub fn end_of<E, P>(siblings: Select<E>, position_column: P) -> Expr
where
    E: EntityTrait,
    P: ColumnTrait,
{
    let last = last_position(siblings, position_column)
        .limit(1)
        .into_query();
    Expr::SubQuery(None, Box::new(last.into()))
        .if_null(0.0)
        .add(POSITION_STEP)
}

/// Inserts `row` after the last of `siblings` (already filtered to one
/// parent): where a new list, todo, checklist or item goes. Its position,
/// one step past the last sibling's, is computed inside the INSERT rather
/// than read first: every such insert runs in a write transaction, where
/// each round trip holds SQLite's one writer. Whatever `row` has as its
/// position is ignored. Returns the row as written.
pub async fn insert_at_end<A>(
    conn: &impl ConnectionTrait,
    mut row: A,
    siblings: Select<A::Entity>,
    position_column: <A::Entity as EntityTrait>::Column,
) -> AppResult<<A::Entity as EntityTrait>::Model>
where
    A: ActiveModelTrait + TryIntoModel<<A::Entity as EntityTrait>::Model>,
{
    let end = end_of(siblings, position_column);
    let (mut columns, mut values) = (Vec::new(), Vec::new());
    for column in <A::Entity as EntityTrait>::Column::iter() {
        if column.as_str() == position_column.as_str() {
            continue;
        }
        if let Some(value) = row.get(column).into_value() {
            columns.push(column);
            values.push(Expr::val(value));
        }
    }
    columns.push(position_column);
    values.push(end);
    let insert = Query::insert()
        .into_table(A::Entity::default().table_ref())
        .columns(columns)
        .values_panic(values)
        .returning_col(position_column)
        .to_owned();
    let written = conn
        .query_one(&insert)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("INSERT … RETURNING returned no row")))?;
    let position: f64 = written.try_get_by_index(0)?;
    row.set(position_column, position.into());
    Ok(row.try_into_model()?)
}
