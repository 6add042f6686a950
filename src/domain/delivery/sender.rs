//! One delivery attempt over HTTP: POST the exact bytes that were signed,
//! with Junction's and Standard Webhooks' headers; time out, follow no
//! redirects, count anything but 2xx as failure, and keep what the receiver
//! said (status, latency, a short excerpt, `Retry-After`).

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use reqwest::{
    dns::{Addrs, Name, Resolve, Resolving},
    header::{CONTENT_TYPE, HeaderName, RETRY_AFTER, USER_AGENT},
    redirect,
};

use chrono::{DateTime, Utc};

use super::target;
use crate::signature;

// HTTP/1 header names are case-insensitive; these go out in lower case,
// as they always have (the http crate lower-cases every name).
const JUNCTION_EVENT: HeaderName = HeaderName::from_static("x-junction-event");
const JUNCTION_DELIVERY: HeaderName = HeaderName::from_static("x-junction-delivery");
const JUNCTION_SIGNATURE: HeaderName = HeaderName::from_static("x-junction-signature");
const WEBHOOK_ID: HeaderName = HeaderName::from_static("webhook-id");
const WEBHOOK_TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");
const WEBHOOK_SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");

/// How much of a response body the delivery log keeps.
pub const EXCERPT_BYTES: usize = 1024;

/// What one attempt sends.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    /// Stable across retries: receivers de-duplicate on it (`webhook-id`).
    pub delivery_id: &'a str,
    pub event_type: &'a str,
    pub url: &'a str,
    /// The current secret first, then one being rotated out. Empty when the
    /// webhook has none: no signature headers then.
    pub secrets: &'a [&'a str],
    pub body: &'a [u8],
    pub timestamp: i64,
}

/// What one attempt got back.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub status: Option<u16>,
    pub latency: Duration,
    pub response_excerpt: String,
    pub error: Option<String>,
    pub retry_after: Option<Duration>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        matches!(self.status, Some(200..=299))
    }
}

/// Resolves target hosts and refuses private addresses at connect time, so
/// a name that resolved to a public address when the webhook was created
/// cannot later be pointed inside the network.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow_private && let Some(bad) = addrs.iter().find(|a| !target::is_public(a.ip())) {
                return Err(format!(
                    "{host} resolves to {}, which is not a public address",
                    bad.ip()
                )
                .into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    /// `idle_per_host`: connections kept open to one receiver between
    /// attempts. Fewer than the attempts a worker runs at once makes a
    /// busy receiver's connections close and reopen under load (seen in a
    /// fan-out: about 900 new connections a second with 32 kept).
    pub fn new(
        timeout: Duration,
        allow_private: bool,
        idle_per_host: usize,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(redirect::Policy::none())
            .pool_max_idle_per_host(idle_per_host)
            .dns_resolver(std::sync::Arc::new(GuardedResolver { allow_private }))
            .build()?;
        Ok(Self {
            client,
            allow_private,
        })
    }

    pub async fn send(&self, out: &Outgoing<'_>) -> Attempt {
        let started = Instant::now();
        let failed = |error: String| Attempt {
            status: None,
            latency: started.elapsed(),
            response_excerpt: String::new(),
            error: Some(error),
            retry_after: None,
        };
        // IP literals skip the resolver; check them here.
        let url = match target::parse_target(out.url) {
            Ok(url) => url,
            Err(e) => return failed(e.to_string()),
        };
        if let Some(Ok(ip)) = url
            .host_str()
            .map(|h| h.trim_matches(['[', ']']).parse::<std::net::IpAddr>())
            && !self.allow_private
            && !target::is_public(ip)
        {
            return failed(format!("{ip} is not a public address"));
        }

        // Header names as constants: given as strings they are parsed, and
        // copied, on every attempt.
        let mut request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("junction/", env!("CARGO_PKG_VERSION")))
            .header(JUNCTION_EVENT, out.event_type)
            .header(JUNCTION_DELIVERY, out.delivery_id)
            .header(WEBHOOK_ID, out.delivery_id)
            .header(WEBHOOK_TIMESTAMP, out.timestamp.to_string());
        if !out.secrets.is_empty() {
            // During a rotation both signatures go out, as Standard Webhooks
            // allows (space-separated); X-Junction-Signature lists them
            // comma-separated, newest first.
            let junction: Vec<String> = out
                .secrets
                .iter()
                .map(|secret| signature::junction_signature(secret, out.body))
                .collect();
            let standard: Vec<String> = out
                .secrets
                .iter()
                .map(|secret| {
                    signature::standard_signature(secret, out.delivery_id, out.timestamp, out.body)
                })
                .collect();
            request = request
                .header(JUNCTION_SIGNATURE, junction.join(", "))
                .header(WEBHOOK_SIGNATURE, standard.join(" "));
        }
        let mut response = match request.body(out.body.to_vec()).send().await {
            Ok(response) => response,
            Err(e) => return failed(describe(&e)),
        };
        let status = response.status().as_u16();
        let retry_after = match status {
            429 | 503 => response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, chrono::Utc::now())),
            _ => None,
        };
        let mut excerpt = Vec::new();
        while excerpt.len() < EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt
                    .extend_from_slice(&chunk[..chunk.len().min(EXCERPT_BYTES - excerpt.len())]),
                _ => break,
            }
        }
        Attempt {
            status: Some(status),
            latency: started.elapsed(),
            response_excerpt: String::from_utf8_lossy(&excerpt).into_owned(),
            error: (!(200..300).contains(&status)).then(|| format!("receiver answered {status}")),
            retry_after,
        }
    }
}

/// A transport error in words, with its cause chain.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A `Retry-After` header: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 22 Nov 2026 10:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_retry_after("Sun, 22 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("later", now), None);
    }
}
