//! Structured logs through `tracing`; text for people, JSON for collectors.

use std::io::IsTerminal;

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
        LogFormat::Text => registry
            .with(
                fmt::layer()
                    .with_target(false)
                    // Colours for a terminal only, not for files and pipes.
                    .with_ansi(std::io::stdout().is_terminal()),
            )
            .try_init(),
        LogFormat::Json => registry.with(fmt::layer().json()).try_init(),
    };
}

/// An error as `junction` prints it on exit: its message, then each cause
/// that says more than the message before it (many errors repeat their
/// source's text in their own), one per line. No backtrace: these are
/// configuration and connection errors, for the operator to fix.
pub fn error_chain(error: &anyhow::Error) -> String {
    let mut text = format!("error: {error}");
    let mut last = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !last.contains(&cause) {
            text.push_str(&format!("\n  caused by: {cause}"));
        }
        last = cause;
    }
    text
}

#[cfg(test)]
mod tests {
    use anyhow::Context;

    #[test]
    fn each_cause_is_printed_once() {
        let io = std::io::Error::other("connection refused");
        let error = Err::<(), _>(io)
            .context("connecting to 127.0.0.1:5432: connection refused")
            .context("opening the database")
            .unwrap_err();
        assert_eq!(
            super::error_chain(&error),
            "error: opening the database\n  caused by: connecting to 127.0.0.1:5432: connection refused"
        );
    }
}
