//! The one error type of the domain, mapped once to HTTP statuses and to
//! GraphQL `extensions.code`.

use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError, http::StatusCode};
use sea_orm::{ConnAcquireErr, DbErr};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Conflict(String),
    /// The request itself is unreadable (bad JSON, broken body).
    #[error("{0}")]
    MalformedRequest(String),
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the request body did not arrive within {0} s")]
    BodyTimeout(u64),
    /// The server is too busy to take this request now (too many requests
    /// in flight, no database connection free in time); retrying later
    /// may succeed. Nothing was changed.
    #[error("{0}")]
    Unavailable(&'static str),
    /// Too many password tries for one account or call; the next is let
    /// through after this many seconds.
    #[error("too many password attempts; try again in {0} s")]
    TooManyAttempts(u64),
    /// Anything the caller cannot fix. The cause is logged, never returned.
    #[error("internal server error")]
    Internal(#[source] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn validation(msg: impl Into<String>) -> Self {
        Self::Validation(msg.into())
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::Forbidden(msg.into())
    }
    pub fn conflict(msg: impl Into<String>) -> Self {
        Self::Conflict(msg.into())
    }
    pub fn unauthenticated(msg: impl Into<String>) -> Self {
        Self::Unauthenticated(msg.into())
    }

    /// Reports a missing parent as the child the caller asked for (a page
    /// of an invisible project is simply not found); other errors pass.
    pub fn not_found_as(what: &'static str) -> impl FnOnce(AppError) -> AppError {
        move |error| match error {
            AppError::NotFound(_) => AppError::NotFound(what),
            other => other,
        }
    }

    /// Maps a unique-index violation to `CONFLICT` with `message`; any
    /// other database error stays internal.
    pub fn conflict_if_duplicate(message: &'static str) -> impl FnOnce(DbErr) -> AppError {
        move |error| match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::conflict(message),
            _ => error.into(),
        }
    }

    /// The code of [`AppError::TooManyAttempts`], which GraphQL over HTTP
    /// also answers with 429.
    pub const TOO_MANY_REQUESTS: &'static str = "TOO_MANY_REQUESTS";
    pub const UNAVAILABLE: &'static str = "UNAVAILABLE";

    /// The GraphQL `extensions.code`, also used in REST error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Validation(_) => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::MalformedRequest(_) => "BAD_REQUEST",
            Self::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            Self::BodyTimeout(_) => "REQUEST_TIMEOUT",
            Self::TooManyAttempts(_) => Self::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => Self::UNAVAILABLE,
            Self::Internal(_) => "INTERNAL",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::MalformedRequest(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A response with this error's status and headers, for each route
    /// family to put its own error body in.
    pub fn response(&self) -> HttpResponseBuilder {
        let mut response = HttpResponse::build(self.status());
        if let Some(seconds) = self.retry_after() {
            response.insert_header((actix_web::http::header::RETRY_AFTER, seconds));
        }
        response
    }

    /// Seconds after which the same request may pass.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            // About what a busy server needs to work off what it already
            // took; clients that honour it spread their retries.
            Self::Unavailable(_) => Some(1),
            Self::TooManyAttempts(seconds) => Some(*seconds),
            _ => None,
        }
    }

    /// What to log of this error where it is handled rather than returned:
    /// an internal error's whole cause chain (its `Display` is only
    /// "internal server error"), else its message.
    pub fn detail(&self) -> String {
        match self {
            Self::Internal(cause) => format!("{cause:#}"),
            other => other.to_string(),
        }
    }

    /// Logs the cause chain of internal errors; called wherever an error
    /// leaves the process (HTTP response, GraphQL response).
    pub fn log(&self) {
        if let Self::Internal(_) = self {
            tracing::error!(error = self.detail(), "internal error");
        }
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if let DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) = err {
            // Inside a GraphQL response this is no 503 for the metrics to
            // count, and past admission it means the database is stuck.
            tracing::warn!("no database connection came free within the pool's acquire timeout");
            return Self::Unavailable(
                "the server is busy: no database connection came free in time",
            );
        }
        if database_unreachable(&err) {
            tracing::warn!(error = %err, "the database is unreachable");
            return Self::Unavailable(
                "the database cannot be reached right now; retry in a moment",
            );
        }
        match err.sql_err() {
            // Every reference is checked before it is written; a write
            // that still breaks one raced a delete of what it refers to.
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
                return Self::conflict("something this change refers to was deleted meanwhile");
            }
            Some(_) => {}
            None => match sqlstate(&err).as_deref() {
                // PostgreSQL's text and jsonb cannot hold U+0000; SQLite's
                // can, so only PostgreSQL refuses it, as this.
                Some("22021" | "22P05") => {
                    return Self::validation("text may not contain the NUL character (U+0000)");
                }
                // PostgreSQL undid this transaction to break a deadlock
                // (deleting a webhook whose deliveries a worker is
                // recording) or a serialization conflict: nothing of it
                // was written, and it would most likely pass if run again.
                Some("40P01" | "40001") => {
                    return Self::Unavailable(
                        "the database undid this change to let a concurrent one through; \
                         nothing was changed, retrying will most likely succeed",
                    );
                }
                _ => {}
            },
        }
        Self::Internal(anyhow::Error::new(err).context("database"))
    }
}

/// Whether the database could not be reached or went away: no connection
/// could be opened, one broke, or the server is shutting down or starting
/// up (PostgreSQL's class 08 and 57P01–57P05; not 57014, a cancelled
/// query). A retry may pass once it is back.
fn database_unreachable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error;
    if let DbErr::Conn(_) | DbErr::ConnectionAcquire(_) = err {
        return true;
    }
    let (DbErr::Exec(sea_orm::RuntimeErr::SqlxError(error))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(error))) = err
    else {
        return false;
    };
    match error.as_ref() {
        Error::Io(_) | Error::Tls(_) | Error::PoolTimedOut | Error::PoolClosed => true,
        Error::Database(error) => error
            .try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>()
            .is_some_and(|error| crate::db::connection_lost(error.code())),
        _ => false,
    }
}

/// The SQLSTATE (PostgreSQL) or result code (SQLite) the database
/// answered a statement with.
fn sqlstate(err: &DbErr) -> Option<String> {
    let (DbErr::Exec(sea_orm::RuntimeErr::SqlxError(error))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(error))
    | DbErr::Conn(sea_orm::RuntimeErr::SqlxError(error))) = err
    else {
        return None;
    };
    match error.as_ref() {
        sea_orm::sqlx::Error::Database(error) => error.code().map(|code| code.into_owned()),
        _ => None,
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        Self::Internal(err)
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        self.response().json(ErrorList::from(self))
    }
}

/// `{"errors": [{"message", "extensions": {"code"}}]}`: how the GraphQL
/// endpoint and the Chat&Messenger routes report errors.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorList {
    pub errors: Vec<ErrorItem>,
}

#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorItem {
    pub message: String,
    pub extensions: ErrorExtensions,
}

#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorExtensions {
    /// `UNAUTHENTICATED`, `FORBIDDEN`, `NOT_FOUND`, `BAD_USER_INPUT`,
    /// `CONFLICT`, `BAD_REQUEST`, `PAYLOAD_TOO_LARGE`, `REQUEST_TIMEOUT`,
    /// `TOO_MANY_REQUESTS`, `UNAVAILABLE` or `INTERNAL`.
    pub code: String,
}

impl From<&AppError> for ErrorList {
    fn from(e: &AppError) -> Self {
        Self {
            errors: vec![ErrorItem {
                message: e.to_string(),
                extensions: ErrorExtensions {
                    code: e.code().to_owned(),
                },
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::ConnectionTrait;

    use super::*;

    #[test]
    fn the_detail_of_an_internal_error_is_its_cause_chain() {
        let internal = AppError::Internal(anyhow::anyhow!("connection reset").context("database"));
        assert_eq!(internal.to_string(), "internal server error");
        assert_eq!(internal.detail(), "database: connection reset");
        assert_eq!(AppError::NotFound("webhook").detail(), "webhook not found");
    }

    #[tokio::test]
    async fn a_write_that_refers_to_a_deleted_row_is_a_conflict() {
        let db = crate::db::in_memory().await;
        for sql in [
            "PRAGMA foreign_keys = ON",
            "CREATE TABLE parent (id TEXT PRIMARY KEY)",
            "CREATE TABLE child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES parent (id))",
        ] {
            db.execute_unprepared(sql).await.unwrap();
        }
        let err = db
            .execute_unprepared("INSERT INTO child (id, parent_id) VALUES ('c', 'gone')")
            .await
            .unwrap_err();
        let err = AppError::from(err);
        assert_eq!(err.code(), "CONFLICT", "{err}");

        let other = db
            .execute_unprepared("INSERT INTO nowhere VALUES (1)")
            .await
            .unwrap_err();
        assert_eq!(AppError::from(other).code(), "INTERNAL");
    }

    #[tokio::test]
    async fn no_free_connection_in_time_is_a_503_to_retry() {
        let mut options = sea_orm::ConnectOptions::new("sqlite::memory:");
        options
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_millis(50));
        let db = sea_orm::Database::connect(options).await.unwrap();
        let holding = sea_orm::TransactionTrait::begin(&db).await.unwrap();
        let err = AppError::from(db.execute_unprepared("SELECT 1").await.unwrap_err());
        assert_eq!(err.code(), "UNAVAILABLE", "{err}");
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response
                .headers()
                .get("retry-after")
                .unwrap()
                .to_str()
                .unwrap(),
            "1"
        );
        holding.rollback().await.unwrap();
        db.execute_unprepared("SELECT 1").await.unwrap();
    }
}
