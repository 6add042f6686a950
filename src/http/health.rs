//! Liveness, readiness and metrics for operators.

use std::time::Duration;

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

/// How long `/readyz` waits for each backing service: a load balancer's
/// probe must get its answer while the service is down, not after the
/// client's reconnect attempts.
const PROBE_TIMEOUT: Duration = Duration::from_millis(800);

/// Ready when every backing service answers: the database, and Redis when
/// configured, each asked at once and given 800 ms. 503 names
/// the one that does not; what went wrong is logged, not shown to whoever
/// asks (the probe needs no credentials).
#[utoipa::path(get, path = "/readyz", tag = "Operations",
    responses((status = 200, description = "Database (and Redis) reachable", body = Object),
        (status = 503, description = "Names what is not reachable", body = Object)))]
pub(super) async fn readyz(app: web::Data<AppState>) -> HttpResponse {
    let database = probe("database", async {
        app.db.ping().await.map_err(|e| e.to_string())
    });
    let redis = async {
        match app.redis.clone() {
            None => "not configured",
            Some(mut conn) => {
                probe("redis", async move {
                    redis::cmd("PING")
                        .query_async::<String>(&mut conn)
                        .await
                        .map(drop)
                        .map_err(|e| e.to_string())
                })
                .await
            }
        }
    };
    let (database, redis) = futures_util::join!(database, redis);
    let ready = database == "ok" && redis != "unavailable";
    let body = json!({ "status": if ready { "ok" } else { "unavailable" }, "database": database, "redis": redis });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// `ok`, or `unavailable` after logging why.
async fn probe(
    service: &'static str,
    ping: impl Future<Output = Result<(), String>>,
) -> &'static str {
    let error = match tokio::time::timeout(PROBE_TIMEOUT, ping).await {
        Ok(Ok(())) => return "ok",
        Ok(Err(error)) => error,
        Err(_) => format!("no answer within {PROBE_TIMEOUT:?}"),
    };
    tracing::warn!(service, %error, "readiness probe failed");
    "unavailable"
}

#[utoipa::path(get, path = "/metrics", tag = "Operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "application/openmetrics-text")))]
pub(super) async fn metrics(app: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(app.metrics.render())
}
