//! GraphiQL at `GET /graphql`, from files embedded in the binary (pinned
//! versions, listed in `assets/graphiql/SOURCES.md`): it works on a closed
//! network, and its page may load nothing from anywhere else.

use actix_web::{
    HttpResponse,
    http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY},
    web,
};

use super::resource;
use crate::error::AppError;

/// What the page may load and reach: this server only (its API over HTTP
/// and WebSocket). GraphiQL sets inline styles; images may be data URLs
/// (its icons).
const POLICY: &str = "default-src 'self'; connect-src 'self' ws: wss:; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:";

/// The page's files: name, content type, contents.
const ASSETS: [(&str, &str, &[u8]); 6] = [
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "page.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/page.css"),
    ),
    (
        "start.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/start.js"),
    ),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/graphiql/{file}", "GET").route(web::get().to(asset)));
}

pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((CONTENT_SECURITY_POLICY, POLICY))
        .body(include_str!("../../assets/graphiql/index.html"))
}

async fn asset(file: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (_, content_type, body) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == file.as_str())
        .ok_or(AppError::NotFound("file"))?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        // Their names do not change with their versions: kept a day.
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(*body))
}
