//! Gives every GraphQL error an `extensions.code`: domain errors carry their
//! own; parse, validation and limit errors (no path) become
//! `GRAPHQL_VALIDATION_FAILED`; input coercion failures `BAD_USER_INPUT`.
//! Errors a later retry may pass also carry `extensions.retryAfter`, in
//! seconds.
//!
//! Done by wrapping the schema's executor rather than as an async-graphql
//! extension: any registered extension wraps every single field
//! resolution, which cost more than the rest of a typical read.

use std::sync::Arc;

use async_graphql::{
    Data, Executor, Request, Response, ServerError,
    futures_util::stream::{BoxStream, StreamExt},
};

use super::AppSchema;
use crate::error::AppError;

pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
/// A request that is no GraphQL request as sent (a persisted query's
/// hash that does not match its text).
pub const BAD_REQUEST: &str = "BAD_REQUEST";

/// The schema, with error codes filled in on every response.
#[derive(Clone)]
pub struct CodedSchema(pub AppSchema);

impl Executor for CodedSchema {
    async fn execute(&self, request: Request) -> Response {
        with_codes(self.0.execute(request).await)
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        self.0
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
            .map(with_codes)
            .boxed()
    }
}

pub(super) fn with_codes(mut response: Response) -> Response {
    response.errors.iter_mut().for_each(classify);
    response
}

fn classify(error: &mut ServerError) {
    let mut retry_after = None;
    let code = match error.source::<AppError>() {
        Some(app_error) => {
            app_error.log();
            retry_after = app_error.retry_after();
            app_error.code()
        }
        None if has_code(error) => return,
        None if error.path.is_empty() => VALIDATION_FAILED,
        None => "BAD_USER_INPUT",
    };
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code);
    // What an HTTP answer would say in `Retry-After`, which a GraphQL
    // response (200, other fields may have succeeded) cannot.
    if let Some(seconds) = retry_after {
        extensions.set("retryAfter", seconds);
    }
}

/// An error's `extensions.code`.
fn code_of(error: &ServerError) -> Option<&async_graphql::Value> {
    error.extensions.as_ref()?.get("code")
}

fn has_code(error: &ServerError) -> bool {
    code_of(error).is_some()
}

/// Whether some error of `response` has `code`.
pub fn has_error_code(response: &Response, code: &str) -> bool {
    let code = async_graphql::Value::from(code);
    response.errors.iter().any(|e| code_of(e) == Some(&code))
}

/// Whether the whole request was refused before execution, which GraphQL
/// over HTTP answers with 400.
pub fn is_request_error(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| {
            code_of(e).is_some_and(|c| {
                *c == async_graphql::Value::from(VALIDATION_FAILED)
                    || *c == async_graphql::Value::from(BAD_REQUEST)
            })
        })
}

/// An error for a request refused as a whole, with its `extensions.code`.
pub(super) fn coded(message: &str, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

/// A request refused as a whole that a later retry may pass (a throttled
/// login, a database that cannot be reached): its `extensions.code` and
/// the seconds to wait. GraphQL over HTTP answers it 429 or 503 with
/// `Retry-After`.
pub fn retry_after(response: &Response) -> Option<(&'static str, u64)> {
    if response.data != async_graphql::Value::Null {
        return None;
    }
    [AppError::TOO_MANY_REQUESTS, AppError::UNAVAILABLE]
        .into_iter()
        .find_map(|code| {
            let code_value = async_graphql::Value::from(code);
            response
                .errors
                .iter()
                .filter(|e| code_of(e) == Some(&code_value))
                .find_map(|e| match e.extensions.as_ref()?.get("retryAfter") {
                    Some(async_graphql::Value::Number(n)) => Some((code, n.as_u64()?)),
                    _ => None,
                })
        })
}
