//! `/openapi.json`: the OpenAPI 3 document of every REST route, generated
//! from the handlers' own annotations and the types they read and write.

use actix_web::{HttpResponse, web};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use super::{compat, health};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Junction REST API",
        description = "Compatibility routes (BeTalk integrations, inbound webhooks, Chat&Messenger, integration points) and operations. The workspace itself is the GraphQL API at /graphql (schema.graphql)."
    ),
    paths(
        health::healthz,
        health::readyz,
        health::metrics,
        compat::betalk::my_integrations,
        compat::betalk::binder_integrations,
        compat::betalk::create,
        compat::betalk::delete,
        compat::inbound::receive,
        compat::inbound::probe,
        compat::cam::send_message,
        compat::cam::send_messages,
        compat::cam::create_quick_call,
        compat::cam::update_chat_room,
        compat::conference::conference_rooms,
        compat::conference::conference_master,
        compat::conference::conference_room_status,
        compat::conference::conference_rooms_post,
        compat::conference::conference_master_post,
        compat::conference::conference_room_status_post,
        compat::integration_points::create,
        compat::integration_points::list,
        compat::integration_points::get_one,
        compat::integration_points::update,
        compat::integration_points::delete,
        compat::integration_points::hook,
    ),
    modifiers(&Credentials)
)]
pub struct ApiDoc;

/// Bearer tokens (session JWT or API token) and Chat&Messenger's header.
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cam_api_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-cam-apiToken"))),
        );
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(super::resource("/openapi.json", "GET").route(web::get().to(document)));
}

async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
