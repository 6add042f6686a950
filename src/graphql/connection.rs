//! Relay connections built from the domain's keyset pages.

use async_graphql::{
    OutputType, SimpleObject,
    connection::{Connection, Edge},
};

use crate::domain::pagination::Page;

#[derive(SimpleObject)]
pub struct TotalCount {
    /// Number of items in the whole list, across pages.
    pub total_count: u64,
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
        TotalCount {
            total_count: page.total_count,
        },
    );
    connection.edges = page
        .items
        .into_iter()
        .map(|item| Edge::new(cursor(&item), node(item)))
        .collect();
    connection
}
