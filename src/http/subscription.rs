//! GraphQL over WebSocket: async-graphql's protocol engine (graphql-transport-ws
//! and the legacy graphql-ws) on actix-ws' connection, with bounds on what
//! a client may make the server hold.
//!
//! async-graphql-actix-web's actor transport, used before, bounded none of
//! it: continuation frames were gathered without limit (one connection
//! grew the server by about 60 MiB per thousand 60 KiB frames), a
//! connection that never sent `connection_init` stayed open for as long as
//! it answered pings, and replies to a client that stopped reading queued
//! in memory. Here a message is at most `MAX_BODY_BYTES` (as a request
//! body), `connection_init` must come within [`INIT_TIMEOUT`] (else close
//! 4408, as graphql-transport-ws prescribes), a client heard from for
//! [`CLIENT_TIMEOUT`] is dropped, a socket runs at most
//! [`MAX_SUBSCRIPTIONS`] at once (20,000 on one socket held 127 MiB, and
//! each event is resolved once per subscription), and both directions wait
//! on each other rather than queue: a client that floods stops being read,
//! one that stops reading stops being written to.

use std::{
    cell::{Cell, RefCell},
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use async_graphql::{
    Data, Executor,
    http::{ClientMessage, WebSocket, WebSocketProtocols, WsMessage},
};
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

use crate::error::{AppError, AppResult};

/// How long a client has after connecting to send `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server pings...
const HEARTBEAT: Duration = Duration::from_secs(5);
/// ...and how long a client may stay silent (no message, no pong) before
/// its connection is dropped.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// Client messages taken in but not yet read by the protocol engine.
const INBOX: usize = 16;
/// Subscriptions one socket may run at once; past it a new one is answered
/// with an error and not started.
const MAX_SUBSCRIPTIONS: usize = 100;

/// Turns `true` when the server begins to shut down: every socket is then
/// closed with 1001 (going away), so clients reconnect to another server
/// at once and the shutdown does not wait out its timeout on them.
pub type Closing = tokio::sync::watch::Receiver<bool>;

/// A client message as the protocol engine takes it.
type Inbound = serde_json::Result<ClientMessage>;

/// Upgrades `req` and serves GraphQL subscriptions on it with `schema`.
/// `on_init` turns `connection_init`'s payload into the connection's data
/// (or refuses it); `max_message` bounds one client message in bytes.
pub fn serve<E, OnInit, InitFut>(
    req: &HttpRequest,
    payload: web::Payload,
    schema: E,
    on_init: OnInit,
    max_message: usize,
    closing: Closing,
) -> AppResult<HttpResponse>
where
    E: Executor,
    OnInit: FnOnce(serde_json::Value) -> InitFut + Send + 'static,
    InitFut: Future<Output = async_graphql::Result<Data>> + Send + 'static,
{
    let protocol = requested_protocol(req).ok_or_else(|| {
        AppError::MalformedRequest(
            "a GraphQL WebSocket needs the graphql-transport-ws or graphql-ws subprotocol".into(),
        )
    })?;
    let (response, session, messages) =
        actix_ws::handle_with_protocols(req, payload, &[protocol.sec_websocket_protocol()])
            .map_err(|e| AppError::MalformedRequest(format!("not a WebSocket handshake: {e}")))?;
    let messages = messages
        .max_frame_size(max_message)
        .aggregate_continuations()
        .max_continuation_size(max_message);
    let initialised = Arc::new(AtomicBool::new(false));
    let (inbox, from_client) = mpsc::channel::<Inbound>(INBOX);
    let engine = {
        let initialised = initialised.clone();
        WebSocket::from_message_stream(
            schema,
            futures_util::stream::unfold(from_client, |mut rx| async move {
                rx.recv().await.map(|message| (message, rx))
            }),
            protocol,
        )
        .on_connection_init(move |init| async move {
            let data = on_init(init).await?;
            initialised.store(true, Ordering::Release);
            Ok(data)
        })
    };
    actix_web::rt::spawn(run(
        session,
        messages,
        inbox,
        engine,
        initialised,
        protocol,
        closing,
    ));
    Ok(response)
}

/// The first subprotocol the client offers that async-graphql speaks.
fn requested_protocol(req: &HttpRequest) -> Option<WebSocketProtocols> {
    req.headers()
        .get_all("sec-websocket-protocol")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|protocols| protocols.split(','))
        .find_map(|protocol| protocol.trim().parse().ok())
}

/// The ids of a socket's running subscriptions: started by the client,
/// ended by the client (`complete`, `stop`) or the server (`complete`).
type Running = RefCell<HashSet<String>>;

/// Serves one connection until either side closes it or a bound is hit.
async fn run(
    session: Session,
    messages: AggregatedMessageStream,
    inbox: mpsc::Sender<Inbound>,
    engine: impl Stream<Item = WsMessage>,
    initialised: Arc<AtomicBool>,
    protocol: WebSocketProtocols,
    closing: Closing,
) {
    let last_heard = Cell::new(Instant::now());
    let running = Running::default();
    let reader = read_client(
        messages,
        inbox,
        session.clone(),
        &last_heard,
        &running,
        protocol,
    );
    let reason = tokio::select! {
        reason = reader => reason,
        reason = write_replies(engine, session.clone(), &running) => reason,
        reason = watch(session.clone(), &last_heard, &initialised) => reason,
        reason = going_away(closing) => reason,
    };
    let _ = session.close(reason).await;
}

/// Hands the client's messages to the engine, waiting while it is busy
/// (the client is not read meanwhile), answers its pings, and refuses a
/// subscription past [`MAX_SUBSCRIPTIONS`].
async fn read_client(
    mut messages: AggregatedMessageStream,
    inbox: mpsc::Sender<Inbound>,
    mut session: Session,
    last_heard: &Cell<Instant>,
    running: &Running,
    protocol: WebSocketProtocols,
) -> Option<CloseReason> {
    while let Some(message) = messages.next().await {
        last_heard.set(Instant::now());
        let bytes = match message {
            Ok(AggregatedMessage::Text(text)) => text.into_bytes(),
            Ok(AggregatedMessage::Binary(bytes)) => bytes,
            Ok(AggregatedMessage::Ping(bytes)) => {
                if session.pong(&bytes).await.is_err() {
                    return None;
                }
                continue;
            }
            Ok(AggregatedMessage::Pong(_)) => continue,
            Ok(AggregatedMessage::Close(reason)) => return reason,
            // A frame past the limit is `Overflow`; continuations gathered
            // past it, an I/O error (as is a broken connection, for which
            // the close goes nowhere anyway).
            Err(actix_ws::ProtocolError::Overflow | actix_ws::ProtocolError::Io(_)) => {
                return Some(CloseReason {
                    code: CloseCode::Size,
                    description: Some("message too big".into()),
                });
            }
            Err(_) => {
                return Some(CloseReason {
                    code: CloseCode::Protocol,
                    description: Some("not a WebSocket frame".into()),
                });
            }
        };
        let message = serde_json::from_slice::<ClientMessage>(&bytes);
        match &message {
            Ok(ClientMessage::Start { id, .. }) => {
                let full = {
                    let mut running = running.borrow_mut();
                    let full = running.len() >= MAX_SUBSCRIPTIONS && !running.contains(id);
                    if !full {
                        running.insert(id.clone());
                    }
                    full
                };
                if full {
                    if session.text(too_many(protocol, id)).await.is_err() {
                        return None;
                    }
                    continue;
                }
            }
            Ok(ClientMessage::Stop { id }) => {
                running.borrow_mut().remove(id);
            }
            _ => {}
        }
        if inbox.send(message).await.is_err() {
            return None;
        }
    }
    None
}

/// The protocol's error message for subscription `id`, refused because
/// the socket runs [`MAX_SUBSCRIPTIONS`] already.
fn too_many(protocol: WebSocketProtocols, id: &str) -> String {
    let error = serde_json::json!({
        "message": format!(
            "this socket already runs {MAX_SUBSCRIPTIONS} subscriptions; complete one first"
        ),
        "extensions": { "code": "BAD_USER_INPUT" },
    });
    // graphql-transport-ws sends a list of errors, graphql-ws one.
    let payload = match protocol {
        WebSocketProtocols::GraphQLWS => serde_json::json!([error]),
        _ => error,
    };
    serde_json::json!({ "type": "error", "id": id, "payload": payload }).to_string()
}

/// Sends the engine's replies; its close (a refused `connection_init`, a
/// protocol error) closes the connection.
async fn write_replies(
    engine: impl Stream<Item = WsMessage>,
    mut session: Session,
    running: &Running,
) -> Option<CloseReason> {
    let mut engine = std::pin::pin!(engine);
    while let Some(reply) = engine.next().await {
        match reply {
            WsMessage::Text(text) => {
                if let Some(id) = completed(&text) {
                    running.borrow_mut().remove(&id);
                }
                if session.text(text).await.is_err() {
                    return None;
                }
            }
            WsMessage::Close(code, description) => {
                return Some(CloseReason {
                    code: code.into(),
                    description: Some(description),
                });
            }
        }
    }
    None
}

/// Pings the client, drops it once silent too long, and closes with 4408
/// a connection not initialised in time.
async fn watch(
    mut session: Session,
    last_heard: &Cell<Instant>,
    initialised: &AtomicBool,
) -> Option<CloseReason> {
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut init_deadline = std::pin::pin!(tokio::time::sleep(INIT_TIMEOUT));
    let mut waiting_for_init = true;
    loop {
        tokio::select! {
            _ = &mut init_deadline, if waiting_for_init => {
                if !initialised.load(Ordering::Acquire) {
                    return Some(CloseReason {
                        code: CloseCode::Other(4408),
                        description: Some("Connection initialisation timeout".into()),
                    });
                }
                waiting_for_init = false;
            }
            _ = heartbeat.tick() => {
                if last_heard.get().elapsed() > CLIENT_TIMEOUT {
                    return None;
                }
                if session.ping(b"").await.is_err() {
                    return None;
                }
            }
        }
    }
}

/// Ends with 1001 once the server begins to shut down.
async fn going_away(mut closing: Closing) -> Option<CloseReason> {
    if closing.wait_for(|closing| *closing).await.is_err() {
        // No server to shut down any more: nothing to wait for.
        std::future::pending::<()>().await;
    }
    Some(CloseReason {
        code: CloseCode::Away,
        description: Some("the server is shutting down".into()),
    })
}

/// The id of a subscription the server ends with this message, if it is
/// `complete`. The engine writes the type first (serde's tag), so the
/// many `next` messages are told apart without being parsed.
fn completed(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Complete {
        id: String,
    }
    if !text.starts_with(r#"{"type":"complete""#) {
        return None;
    }
    serde_json::from_str::<Complete>(text).ok().map(|c| c.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_servers_complete_names_its_subscription_and_nothing_else_does() {
        assert_eq!(
            completed(r#"{"type":"complete","id":"7"}"#).as_deref(),
            Some("7")
        );
        assert_eq!(
            completed(r#"{"type":"next","id":"7","payload":{"data":{"type":"complete"}}}"#),
            None
        );
    }
}
