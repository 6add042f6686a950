//! HTTP: the actix-web server and its routes.

mod admission;
mod body;
mod compat;
mod cors;
mod credentials;
mod graphiql;
mod graphql;
mod health;
mod metrics;
pub mod openapi;
mod request_span;
mod subscription;

use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, dev::Server, middleware, web};
use tracing_actix_web::TracingLogger;

pub use body::read_limited;
pub use credentials::credential_from_headers;
pub use subscription::Closing;

use crate::{error::AppError, graphql::GraphqlApi, state::AppState};

/// The server on `listener`. It does not act on signals itself: the
/// caller stops it (see [`crate::startup::Application::run_until_stopped`])
/// after setting `closing`, on which open subscriptions close.
pub fn server(
    listeners: Vec<TcpListener>,
    app: AppState,
    closing: Closing,
) -> std::io::Result<Server> {
    let api = web::Data::new(GraphqlApi::new(&app));
    let app_data = web::Data::new(app);
    let closing = web::Data::new(closing);
    let admission = web::Data::new(admission::Admission::new(
        app_data.settings.max_inflight_requests,
        app_data.metrics.http_requests_in_flight.clone(),
    ));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(app_data.clone())
            .app_data(api.clone())
            .app_data(admission.clone())
            .app_data(closing.clone())
            .wrap(middleware::from_fn(body::refuse_declared_oversize))
            // Inside the metrics: refused requests are counted as 503s.
            .wrap(middleware::from_fn(admission::admit))
            .wrap(middleware::from_fn(metrics::track))
            .wrap(TracingLogger::<request_span::RedactedSpan>::new())
            // Outermost: a preflight is answered before anything else.
            .wrap(cors::layer(&app_data.settings))
            .configure(routes)
            .default_service(web::to(not_found))
    });
    let server = listeners
        .into_iter()
        .try_fold(server, |server, listener| server.listen(listener))?
        .disable_signals()
        // In-flight requests get this long to finish once stopped.
        .shutdown_timeout(30)
        .run();
    Ok(server)
}

fn routes(cfg: &mut web::ServiceConfig) {
    graphql::routes(cfg);
    health::routes(cfg);
    openapi::routes(cfg);
    // Last: BeTalk's `/{binder_id}/…` routes match any first segment.
    compat::routes(cfg);
}

/// A resource at `path` whose other methods answer 405 with `Allow`.
pub(crate) fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path.to_owned()).default_service(web::to(move || async move {
        let error = crate::error::ErrorList {
            errors: vec![crate::error::ErrorItem {
                message: format!("method not allowed; this route takes {allow}"),
                extensions: crate::error::ErrorExtensions {
                    code: "METHOD_NOT_ALLOWED".to_owned(),
                },
            }],
        };
        HttpResponse::MethodNotAllowed()
            .insert_header((actix_web::http::header::ALLOW, allow))
            .json(error)
    }))
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound("route"))
}
