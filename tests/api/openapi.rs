//! `/openapi.json` describes every REST route the server answers.

use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_openapi_document_lists_every_rest_route_with_its_errors() {
    let app = spawn_app().await;
    let r = app.get("/openapi.json").await;
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/healthz", &["get"][..]),
        ("/readyz", &["get"]),
        ("/metrics", &["get"]),
        ("/me/integrations", &["get"]),
        ("/{binder_id}/integrations", &["get", "post"]),
        ("/{binder_id}/integrations/{integration_id}", &["delete"]),
        ("/webhooks/{token}", &["get", "post"]),
        ("/sendMessage", &["post"]),
        ("/sendMessages", &["post"]),
        ("/createQuickCall", &["post"]),
        ("/updateChatRoom", &["post"]),
        ("/getConferenceRooms", &["get", "post"]),
        ("/getConferenceMaster", &["get", "post"]),
        ("/getConferenceRoomStatus", &["get", "post"]),
        ("/rest/v1/service/integration_points", &["get", "post"]),
        (
            "/rest/v1/service/integration_points/{id}",
            &["get", "patch", "delete"],
        ),
        ("/rest/v1/service/integration_points/{id}/hook", &["post"]),
    ] {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is not documented"));
        for method in methods {
            let op = &item[*method];
            assert!(op.is_object(), "{method} {path} is not documented");
            if op.get("security").is_some() {
                assert!(
                    op["responses"].get("401").is_some(),
                    "{method} {path} omits 401"
                );
            }
        }
    }
    // Descriptions are for readers of the document, not rustdoc.
    let text = doc.to_string();
    assert!(!text.contains("[`"), "rustdoc link syntax in the document");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["cam_api_token"]["name"], "x-cam-apiToken");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");

    // Methods a route does not take answer 405 with `Allow`.
    let r = app
        .client
        .delete(format!("{}/sendMessage", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    let r = app
        .client
        .put(format!(
            "{}/rest/v1/service/integration_points",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, POST, LOOKUP");
}
