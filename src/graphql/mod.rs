//! The GraphQL API: one schema over the whole domain. Resolvers stay thin:
//! they authorize through the context and call one domain function.

mod connection;
mod context;
mod documents;
mod errors;
pub mod loaders;
mod mutation;
mod query;
mod subscription;
pub mod types;

use async_graphql::Schema;

pub use context::ContextExt;
pub use documents::Documents;
pub use errors::{CodedSchema, is_request_error};
use mutation::Mutation;
use query::Query;
use subscription::Subscription;

use crate::state::AppState;

pub type AppSchema = Schema<Query, Mutation, Subscription>;

fn builder() -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription)
}

/// The executable schema, with the limits from the settings.
pub fn build_schema(app: AppState) -> CodedSchema {
    let settings = app.settings.clone();
    CodedSchema(
        builder()
            .limit_depth(settings.graphql_max_depth)
            .limit_complexity(settings.graphql_max_complexity)
            .data(app)
            .finish(),
    )
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
