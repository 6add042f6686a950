//! `/graphql`: POST executes, GET executes a query in the URL or else shows
//! GraphiQL, a WebSocket upgrade on GET runs subscriptions
//! (graphql-transport-ws and graphql-ws).

use actix_web::{HttpRequest, HttpResponse, guard, http::header, web};
use async_graphql::{BatchRequest, BatchResponse, Data};
use serde_json::Value;

use super::{graphiql, read_limited, resource, subscription};
use crate::{
    auth::Auth,
    domain::sessions::authenticate,
    error::{AppError, AppResult},
    graphql::{
        CodedSchema, GraphqlApi, METHOD_NOT_ALLOWED, Method, has_error_code, is_request_error,
        loaders::Loaders, retry_after,
    },
    http::credential_from_headers,
    state::AppState,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/graphql", "GET, POST")
            .route(web::post().to(post))
            .route(
                web::get()
                    .guard(guard::Header("upgrade", "websocket"))
                    .to(subscribe),
            )
            .route(web::get().to(get)),
    );
    graphiql::routes(cfg);
}

async fn post(
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
    execute(&app, &api, &req, batch, Method::Post).await
}

/// A query in the URL (GraphQL over HTTP's GET, which Apollo's persisted
/// queries use for hashes); GraphiQL for a browser's page load or a bare
/// `/graphql`.
async fn get(
    app: web::Data<AppState>,
    api: web::Data<GraphqlApi>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let wants_page = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_page || req.query_string().is_empty() {
        return Ok(graphiql::page());
    }
    let mut fields = serde_json::Map::new();
    for (key, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        let value = match key.as_ref() {
            "query" | "operationName" => Value::String(value.into_owned()),
            "variables" | "extensions" => serde_json::from_str(&value)
                .map_err(|e| AppError::MalformedRequest(format!("{key} is not JSON: {e}")))?,
            _ => continue,
        };
        fields.insert(key.into_owned(), value);
    }
    let request = serde_json::from_value(Value::Object(fields)).map_err(|e| {
        AppError::MalformedRequest(format!("the URL holds no GraphQL request: {e}"))
    })?;
    execute(&app, &api, &req, BatchRequest::Single(request), Method::Get).await
}

async fn execute(
    app: &AppState,
    api: &GraphqlApi,
    req: &HttpRequest,
    batch: BatchRequest,
    method: Method,
) -> AppResult<HttpResponse> {
    let auth = authenticate(app, credential_from_headers(req.headers()).as_deref()).await?;
    let response = api
        .execute(batch, method, auth, Loaders::new(&app.db))
        .await;
    let mut answer = match &response {
        BatchResponse::Single(r) => match retry_after(r) {
            Some((code, seconds)) => {
                let mut answer = match code {
                    AppError::UNAVAILABLE => HttpResponse::ServiceUnavailable(),
                    _ => HttpResponse::TooManyRequests(),
                };
                answer.insert_header((header::RETRY_AFTER, seconds));
                answer
            }
            None if has_error_code(r, METHOD_NOT_ALLOWED) => {
                let mut answer = HttpResponse::MethodNotAllowed();
                answer.insert_header((header::ALLOW, "POST"));
                answer
            }
            None if is_request_error(r) => HttpResponse::BadRequest(),
            None => HttpResponse::Ok(),
        },
        BatchResponse::Batch(_) => HttpResponse::Ok(),
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
