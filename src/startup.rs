//! Building and running the application: the same path for `junction serve`
//! and for every integration test.

use std::{
    net::{SocketAddr, TcpListener},
    sync::Arc,
    time::Duration,
};

use actix_web::dev::Server;
use anyhow::Context;

use crate::{
    auth::{PrincipalCache, Throttle, jwt::JwtKeys},
    config::Settings,
    db, domain,
    domain::delivery::attempt,
    domain::{Ctx, caches::Caches, instance},
    events::Bus,
    http,
    jobs::{DeliveryJobs, worker},
    metrics::Metrics,
    secrets::{self, Secrets},
    state::AppState,
};

/// Listeners on every address `BIND` names (`localhost` is 127.0.0.1 and
/// ::1), all on one port: with port 0, the one the first was given. An
/// address this machine does not have (::1 without IPv6) is skipped, as
/// long as one is bound.
fn listen(settings: &Settings) -> anyhow::Result<Vec<TcpListener>> {
    let context = || format!("cannot listen on BIND {}", settings.bind);
    let mut addrs = settings.bind_addrs()?.into_iter();
    let first = addrs.next().expect("bind_addrs names at least one");
    let mut listeners = vec![TcpListener::bind(first).with_context(context)?];
    let port = listeners[0].local_addr()?.port();
    for mut addr in addrs {
        addr.set_port(port);
        match TcpListener::bind(addr) {
            Ok(listener) => listeners.push(listener),
            Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable => {
                tracing::debug!(%addr, "not listening on an address this machine lacks")
            }
            Err(e) => return Err(e).with_context(context),
        }
    }
    Ok(listeners)
}

pub struct Application {
    address: SocketAddr,
    server: Server,
    state: AppState,
    jobs: DeliveryJobs,
    /// Set on SIGTERM/SIGINT, before the server stops: subscriptions close.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Application {
    /// Binds the listener (port 0 picks a free one), connects to the
    /// database (migrating it) and Redis, and prepares the server. Binding
    /// comes first, so that a taken port is reported before anything is
    /// created.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        let listeners = listen(&settings)?;
        let address = listeners[0].local_addr()?;
        let (state, jobs) = build_state(settings).await?;
        let (closing, closing_rx) = tokio::sync::watch::channel(false);
        let server = http::server(listeners, state.clone(), closing_rx)?;
        Ok(Self {
            address,
            server,
            state,
            jobs,
            closing,
        })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT/SIGTERM, then lets in-flight requests finish;
    /// with in-process workers, then lets in-flight delivery attempts
    /// finish too.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        // Signals are taken here rather than by actix-web, so that open
        // subscriptions close (1001) before the server waits for what is
        // in flight: it would otherwise wait its whole timeout on them.
        let (handle, closing) = (self.server.handle(), self.closing);
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: closing subscriptions, finishing requests in flight");
            closing.send_replace(true);
            handle.stop(true).await;
        });
        let (stop, stopped) = worker::stop_channel();
        let workers = async {
            if self.state.settings.in_process_workers {
                worker::run(self.state.ctx.clone(), self.jobs.clone(), stopped).await
            } else {
                Ok(())
            }
        };
        // The worker future is not `Send`-friendly enough for tokio::spawn
        // (STACK.md trap 5); it runs beside the server on this task.
        let server = async {
            let served = self.server.await;
            let _ = stop.send(true);
            served
        };
        let (served, worked) = tokio::join!(server, workers);
        served?;
        worked
    }
}

/// SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}

/// Installs ring as the process's TLS crypto provider. reqwest is built
/// without one (the default pulls aws-lc, a slow C build), and building a
/// client without a provider panics. Idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Events a slow subscriber may fall behind by before it skips some.
const EVENT_BUFFER: usize = 4096;

/// What every part of a process shares, and the delivery queue its workers
/// take jobs from.
pub async fn build_state(settings: Settings) -> anyhow::Result<(AppState, DeliveryJobs)> {
    install_crypto_provider();
    let (db, secrets) = open_sealed(&settings).await?;
    let secret = match &settings.jwt_secret {
        Some(secret) => secret.expose().to_owned(),
        None => instance::stored_jwt_secret(&db, &secrets)
            .await
            .map_err(anyhow_from)?,
    };
    let prefix = &settings.redis_prefix;
    let (redis, events, deliveries, queue) = match &settings.redis_url {
        Some(url) => {
            let client =
                redis::Client::open(url.as_str()).with_context(|| format!("REDIS_URL {url:?}"))?;
            // redis-rs gives up on a command after 500 ms by default.
            let config = redis::aio::ConnectionManagerConfig::new()
                .set_response_timeout(Some(Duration::from_millis(settings.redis_timeout_ms)));
            let conn = redis::aio::ConnectionManager::new_with_config(client.clone(), config)
                .await
                .with_context(|| format!("connecting to Redis at {}", db::redact(url)))?;
            let events = Bus::redis(
                EVENT_BUFFER,
                client.clone(),
                conn.clone(),
                format!("{prefix}events"),
            );
            let deliveries = Bus::redis(
                EVENT_BUFFER,
                client,
                conn.clone(),
                format!("{prefix}deliveries"),
            );
            let queue = DeliveryJobs::redis(
                conn.clone(),
                prefix,
                Duration::from_millis(settings.redis_timeout_ms),
            );
            (Some(conn), events, deliveries, queue)
        }
        None => (
            None,
            Bus::local(EVENT_BUFFER),
            Bus::local(EVENT_BUFFER),
            DeliveryJobs::embedded(
                prefix,
                settings
                    .in_process_workers
                    .then(|| attempt::lease_length(settings.delivery_timeout())),
            ),
        ),
    };
    let ctx = Ctx {
        db,
        jwt: JwtKeys::new(secret.as_bytes(), settings.jwt_ttl()),
        principals: Arc::new(PrincipalCache::new(Duration::from_millis(
            settings.auth_cache_ttl_ms,
        ))),
        throttle: Arc::new(Throttle::new(&settings, redis.clone())),
        settings: Arc::new(settings),
        events,
        deliveries,
        queue: Arc::new(queue.clone()),
        metrics: Arc::new(Metrics::default()),
        caches: Caches::default(),
        secrets: Arc::new(secrets),
    };
    Ok((AppState { ctx, redis }, queue))
}

/// Opens (and migrates) the database with its secret key: checks the key
/// is the database's, and seals what an older version stored in clear.
pub async fn open_sealed(settings: &Settings) -> anyhow::Result<(db::Db, Secrets)> {
    // The key first: without it, nothing (not even a migration) happens.
    let secrets = secrets::key::load(settings)?;
    let db = db::Db::open(settings).await?;
    domain::sealing::prepare(&db, &secrets).await?;
    Ok((db, secrets))
}

/// `junction rotate-secret-key`: re-seals everything under a new key in
/// one transaction, then puts the new key where the old one was (the key
/// file; or, with `SECRET_KEY`, the operator, told in the returned text).
/// The new key is written beside the old file first, so a crash leaves it
/// on disk for whichever key the database ends up sealed under.
pub async fn rotate_secret_key(settings: &Settings) -> anyhow::Result<String> {
    let (db, old) = open_sealed(settings).await?;
    let key = secrets::key::generate();
    let new = Secrets::new(&key);
    let file = match settings.secret_key {
        Some(_) => None,
        None => secrets::key::file(settings)?,
    };
    let pending = file.as_ref().map(|file| file.with_extension("key.new"));
    if let Some(pending) = &pending {
        secrets::key::write_new(pending, &key)
            .with_context(|| format!("writing the new key to {}", pending.display()))?;
    }
    let resealed = domain::sealing::rotate(&db, &old, &new).await?;
    let done = format!(
        "re-sealed {resealed} secrets and tokens: key {} replaces key {}",
        new.kid(),
        old.kid()
    );
    // The key first: the database is sealed under it from here on.
    let told = match (file, pending) {
        (Some(file), Some(pending)) => {
            std::fs::rename(&pending, &file)
                .with_context(|| format!("moving {} to {}", pending.display(), file.display()))?;
            format!(
                "{done}, in {}; back it up, and start every process with it",
                file.display()
            )
        }
        _ => format!(
            "{done}; set SECRET_KEY={} in every process before starting it",
            secrets::key::encode(&key)
        ),
    };
    domain::sealing::purge(&db).await;
    Ok(told)
}

fn anyhow_from(e: crate::error::AppError) -> anyhow::Error {
    match e {
        crate::error::AppError::Internal(cause) => cause,
        other => anyhow::anyhow!(other.to_string()),
    }
}
