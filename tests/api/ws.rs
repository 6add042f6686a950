//! A GraphQL-over-WebSocket client for tests: a real tungstenite socket and
//! graphql-ws-client for the graphql-transport-ws protocol.

use futures_util::StreamExt;
use graphql_ws_client::{Client, Subscription, graphql::GraphqlOperation};
use serde::Serialize;
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::helpers::TestApp;

/// An operation whose response is kept as raw JSON.
#[derive(Serialize)]
pub struct Operation {
    pub query: &'static str,
    pub variables: Value,
}

impl GraphqlOperation for Operation {
    type Response = Value;
    type Error = serde_json::Error;
    fn decode(&self, data: Value) -> Result<Value, Self::Error> {
        Ok(data)
    }
}

pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Upgrades `/graphql` with the given subprotocol.
pub async fn connect(app: &TestApp, protocol: &'static str) -> Socket {
    connect_to(app.port, protocol).await
}

/// Upgrades `/graphql` of a server on `port` (one run as a process of its
/// own) with the given subprotocol.
pub async fn connect_to(port: u16, protocol: &'static str) -> Socket {
    let mut request = format!("ws://127.0.0.1:{port}/graphql")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", HeaderValue::from_static(protocol));
    tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket upgrade")
        .0
}

/// Subscribes over graphql-transport-ws with the token in `connection_init`.
pub async fn subscribe(
    app: &TestApp,
    token: &str,
    query: &'static str,
    variables: Value,
) -> Subscription<Operation> {
    let connection = connect(app, "graphql-transport-ws").await;
    Client::build(connection)
        .payload(json!({ "token": token }))
        .unwrap()
        .subscribe(Operation { query, variables })
        .await
        .expect("subscribed")
}

/// The next close frame the server sends, within `within`.
pub async fn close_code(socket: &mut Socket, within: std::time::Duration) -> u16 {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                return frame.code.into();
            }
            Ok(Some(Ok(Message::Close(None)))) | Ok(None) => {
                panic!("closed without a code")
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => panic!("socket failed: {e}"),
            Err(_) => panic!("not closed within {within:?}"),
        }
    }
}
