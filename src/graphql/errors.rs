//! Gives every GraphQL error an `extensions.code`: domain errors carry their
//! own; parse, validation and limit errors (no path) become
//! `GRAPHQL_VALIDATION_FAILED`; input coercion failures `BAD_USER_INPUT`.

use std::sync::Arc;

use async_graphql::{
    Response, ServerError,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe},
    futures_util::stream::{BoxStream, StreamExt},
};

use crate::error::AppError;

pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";

pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        response.errors.iter_mut().for_each(classify);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream)
            .map(|mut response| {
                response.errors.iter_mut().for_each(classify);
                response
            })
            .boxed()
    }
}

fn classify(error: &mut ServerError) {
    let code = match error.source::<AppError>() {
        Some(app_error) => {
            app_error.log();
            app_error.code()
        }
        None if has_code(error) => return,
        None if error.path.is_empty() => VALIDATION_FAILED,
        None => "BAD_USER_INPUT",
    };
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
}

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|ext| ext.get("code").is_some())
}

/// Whether the whole request was refused before execution, which GraphQL
/// over HTTP answers with 400.
pub fn is_request_error(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| {
            e.extensions
                .as_ref()
                .and_then(|ext| ext.get("code"))
                .is_some_and(|c| *c == async_graphql::Value::from(VALIDATION_FAILED))
        })
}
