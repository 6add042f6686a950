//! Structured logs through `tracing`; text for people, JSON for collectors.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

/// The level when `RUST_LOG` is unset. actix-http's connection dispatcher
/// logs a client's malformed request (an over-long URI, a head too large,
/// bytes that are no HTTP) at ERROR after answering it 400, 414 or 431:
/// any client could fill the error log at will, so it is off.
const DEFAULT_FILTER: &str =
    "info,sqlx=warn,sea_orm=warn,actix_server=warn,actix_http::h1::dispatcher=off";

pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let registry = tracing_subscriber::registry().with(filter);
    // A second init (tests start many apps in one process) is harmless.
    let _ = match format {
        LogFormat::Text => registry.with(fmt::layer().with_target(false)).try_init(),
        LogFormat::Json => registry.with(fmt::layer().json()).try_init(),
    };
}
