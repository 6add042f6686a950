//! `/graphql`: POST executes, GET shows GraphiQL, a WebSocket upgrade on GET
//! runs subscriptions (graphql-transport-ws and graphql-ws).

use actix_web::{HttpRequest, HttpResponse, guard, http::StatusCode, web};
use async_graphql::{BatchRequest, BatchResponse, Data};

use super::{graphiql, read_limited, resource, subscription};
use crate::{
    auth::Auth,
    domain::sessions::authenticate,
    error::{AppError, AppResult},
    graphql::{CodedSchema, GraphqlApi, is_request_error, loaders::Loaders, retry_after},
    http::credential_from_headers,
    state::AppState,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/graphql", "GET, POST")
            .route(web::post().to(execute))
            .route(
                web::get()
                    .guard(guard::Header("upgrade", "websocket"))
                    .to(subscribe),
            )
            .route(web::get().to(graphiql::page)),
    );
    graphiql::routes(cfg);
}

async fn execute(
    app: web::Data<AppState>,
    api: web::Data<GraphqlApi>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let body = read_limited(payload, &app.settings).await?;
    let batch: BatchRequest = serde_json::from_slice(&body).map_err(|e| {
        AppError::MalformedRequest(format!("the body is not a GraphQL request in JSON: {e}"))
    })?;
    if let BatchRequest::Batch(requests) = &batch
        && requests.len() > app.settings.graphql_max_batch as usize
    {
        return Err(AppError::MalformedRequest(format!(
            "a batch may hold at most {} operations (GRAPHQL_MAX_BATCH); this one holds {}",
            app.settings.graphql_max_batch,
            requests.len()
        )));
    }
    let auth = authenticate(&app, credential_from_headers(req.headers()).as_deref()).await?;
    let response = api.execute(batch, auth, Loaders::new(&app.db)).await;
    let mut answer = match &response {
        BatchResponse::Single(r) => match retry_after(r) {
            Some(seconds) => {
                let mut answer = HttpResponse::TooManyRequests();
                answer.insert_header((actix_web::http::header::RETRY_AFTER, seconds));
                answer
            }
            None if is_request_error(r) => HttpResponse::BadRequest(),
            None => HttpResponse::Ok(),
        },
        BatchResponse::Batch(_) => HttpResponse::build(StatusCode::OK),
    };
    Ok(answer.json(response))
}

async fn subscribe(
    app: web::Data<AppState>,
    api: web::Data<GraphqlApi>,
    closing: web::Data<subscription::Closing>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let max_message = app.settings.max_body_bytes;
    let app = app.get_ref().clone();
    let on_init = move |init: serde_json::Value| async move {
        let auth = authenticate(&app, credential_from_init(&init).as_deref()).await?;
        if let Auth::Rejected(reason) = &auth {
            return Err(AppError::unauthenticated(reason.clone()).into());
        }
        let mut data = Data::default();
        data.insert(Loaders::new(&app.db));
        data.insert(auth);
        Ok(data)
    };
    subscription::serve(
        &req,
        payload,
        CodedSchema::clone(api.schema()),
        on_init,
        max_message,
        closing.get_ref().clone(),
    )
}

/// The token in a `connection_init` payload: `{"token": …}`,
/// `{"authToken": …}` or `{"Authorization": "Bearer …"}` (any case).
fn credential_from_init(init: &serde_json::Value) -> Option<String> {
    let object = init.as_object()?;
    object.iter().find_map(|(key, value)| {
        let value = value.as_str()?;
        match key.to_ascii_lowercase().as_str() {
            "token" | "authtoken" | "x-cam-apitoken" => Some(value.trim().to_owned()),
            "authorization" => Some(
                value
                    .trim()
                    .trim_start_matches("Bearer ")
                    .trim_start_matches("bearer ")
                    .to_owned(),
            ),
            _ => None,
        }
    })
}
