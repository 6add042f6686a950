//! The GraphQL API: one schema over the whole domain. Resolvers stay thin:
//! they authorize through the context and call one domain function.

mod api;
mod connection;
mod context;
mod documents;
mod errors;
mod limits;
pub mod loaders;
mod mutation;
mod persisted;
mod query;
mod subscription;
pub mod types;

use async_graphql::Schema;

pub use api::{GraphqlApi, METHOD_NOT_ALLOWED, Method};
pub use context::ContextExt;
use documents::Documents;
pub use errors::{CodedSchema, has_error_code, is_request_error, retry_after};
use mutation::Mutation;
use query::Query;
use subscription::Subscription;

pub type AppSchema = Schema<Query, Mutation, Subscription>;

fn builder() -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription)
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
