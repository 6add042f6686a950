//! Liveness, readiness and metrics for operators.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::resource;
use crate::state::AppState;

const HEALTHZ: &str = "/healthz";
const READYZ: &str = "/readyz";
const METRICS: &str = "/metrics";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(HEALTHZ, "GET").route(web::get().to(healthz)))
        .service(resource(READYZ, "GET").route(web::get().to(readyz)))
        .service(resource(METRICS, "GET").route(web::get().to(metrics)));
}

/// Whether `path` is one of these operators' routes.
pub(super) fn is_probe(path: &str) -> bool {
    [HEALTHZ, READYZ, METRICS].contains(&path)
}

/// The process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "Operations",
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Object)))]
pub(super) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when every backing service answers: the database, and Redis when
/// configured. 503 names the one that does not.
#[utoipa::path(get, path = "/readyz", tag = "Operations",
    responses((status = 200, description = "Database (and Redis) reachable", body = Object),
        (status = 503, description = "Names what is not reachable", body = Object)))]
pub(super) async fn readyz(app: web::Data<AppState>) -> HttpResponse {
    let database = match app.db.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(e) => format!("error: {e}"),
    };
    let redis = match app.redis.clone() {
        None => "not configured".to_owned(),
        Some(mut conn) => match redis::cmd("PING").query_async::<String>(&mut conn).await {
            Ok(_) => "ok".to_owned(),
            Err(e) => format!("error: {e}"),
        },
    };
    let ready = database == "ok" && !redis.starts_with("error");
    let body = json!({ "status": if ready { "ok" } else { "unavailable" }, "database": database, "redis": redis });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

#[utoipa::path(get, path = "/metrics", tag = "Operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "application/openmetrics-text")))]
pub(super) async fn metrics(app: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(app.metrics.render())
}
