//! CORS: pages from `CORS_ALLOWED_ORIGINS` may call the API from a
//! browser. Without the setting no CORS header is sent, so browsers keep
//! other sites' pages from reading any answer.

use actix_cors::Cors;
use actix_web::middleware::Condition;

use crate::config::Settings;

/// How long a browser may keep a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: usize = 3_600;

pub fn layer(settings: &Settings) -> Condition<Cors> {
    let origins = &settings.cors_allowed_origins;
    let mut cors = Cors::default()
        .allow_any_method()
        .allow_any_header()
        .expose_any_header()
        .max_age(PREFLIGHT_MAX_AGE)
        // Another origin's request is answered, without CORS headers, as
        // it would be without this layer: the browser withholds the answer
        // from the page, and clients that are no browser are not refused
        // for the Origin they send.
        .block_on_origin_mismatch(false);
    if origins.iter().any(|o| o == "*") {
        cors = cors.allow_any_origin();
    } else {
        for origin in origins {
            cors = cors.allowed_origin(origin);
        }
    }
    Condition::new(!origins.is_empty(), cors)
}
