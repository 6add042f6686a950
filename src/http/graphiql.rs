//! GraphiQL at `GET /graphql`, from files embedded in the binary (pinned
//! versions, listed in `assets/graphiql/SOURCES.md`): it works on a closed
//! network, and its page may load nothing from anywhere else.

use std::sync::OnceLock;

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{
        CACHE_CONTROL, CONTENT_SECURITY_POLICY, ETAG, IF_NONE_MATCH, X_CONTENT_TYPE_OPTIONS,
    },
    middleware, web,
};
use sha2::{Digest, Sha256};

use super::resource;
use crate::error::AppError;

/// What the page may load and reach: this server only ('self' covers its
/// WebSocket too). GraphiQL sets inline styles; its icons and fonts are
/// data URLs. No other page may frame it, since tokens are typed into it.
const POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

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
    cfg.service(
        resource("/graphiql/{file}", "GET")
            .route(web::get().to(asset))
            // 1.6 MB of JavaScript and CSS, a third of it gzipped.
            .wrap(middleware::Compress::default()),
    );
}

pub fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((CONTENT_SECURITY_POLICY, POLICY))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(include_str!("../../assets/graphiql/index.html"))
}

/// A file's tag for revalidation: its names do not change between
/// versions, so browsers ask each time (`no-cache`) and get a 304 while
/// it is unchanged.
fn etag(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..8]))
}

async fn asset(req: HttpRequest, file: web::Path<String>) -> Result<HttpResponse, AppError> {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| ASSETS.iter().map(|(_, _, body)| etag(body)).collect());
    let index = ASSETS
        .iter()
        .position(|(name, _, _)| *name == file.as_str())
        .ok_or(AppError::NotFound("file"))?;
    let (_, content_type, body) = ASSETS[index];
    let tag = &tags[index];
    let unchanged = req
        .headers()
        .get(IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == tag.as_bytes());
    let mut response = match unchanged {
        true => HttpResponse::NotModified(),
        false => HttpResponse::Ok(),
    };
    response
        .content_type(content_type)
        .insert_header((CACHE_CONTROL, "no-cache"))
        .insert_header((ETAG, tag.as_str()))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"));
    Ok(match unchanged {
        true => response.finish(),
        false => response.body(body),
    })
}
