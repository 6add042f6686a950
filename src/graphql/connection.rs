//! Relay connections built from the domain's keyset pages.

use async_graphql::{
    Context, Object, OutputType,
    connection::{Connection, Edge},
};

use crate::domain::pagination::{Page, PageRequest};

pub struct TotalCount(Option<u64>);

#[Object]
impl TotalCount {
    /// Number of items in the whole list, across pages.
    async fn total_count(&self) -> u64 {
        self.0.unwrap_or_default()
    }
}

/// `first`/`after` checked, counting the whole list only when the query
/// selects `totalCount`.
pub fn page_request(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<PageRequest> {
    let mut page = PageRequest::new(first, after)?;
    page.count_total = ctx.look_ahead().field("totalCount").exists();
    Ok(page)
}

pub type PageConnection<N> = Connection<String, N, TotalCount>;

pub fn from_page<T, N: OutputType>(
    page: Page<T>,
    had_cursor: bool,
    cursor: impl Fn(&T) -> String,
    node: impl Fn(T) -> N,
) -> PageConnection<N> {
    let mut connection = Connection::with_additional_fields(
        had_cursor,
        page.has_next_page,
        TotalCount(page.total_count),
    );
    connection.edges = page
        .items
        .into_iter()
        .map(|item| Edge::new(cursor(&item), node(item)))
        .collect();
    connection
}
