//! Liveness, readiness and metrics for operators.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

/// The process is up and serving.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when every backing service answers: the database, and Redis when
/// configured. 503 names the one that does not.
async fn readyz(app: web::Data<AppState>) -> HttpResponse {
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

async fn metrics(app: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(app.metrics.render())
}
