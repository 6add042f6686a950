//! Each request's log span, as tracing-actix-web's own but with the
//! credentials a URL may carry masked: an inbound webhook's token is its
//! path (`/webhooks/<token>`), and a few routes take `?token=`. A log line
//! is read by more people, and kept longer, than the secrets it names.

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

/// What stands in for a masked value.
const MASK: &str = "***";

pub struct RedactedSpan;

impl RootSpanBuilder for RedactedSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = request.match_pattern().unwrap_or_else(|| "default".into());
        let target = request
            .uri()
            .path_and_query()
            .map_or_else(String::new, |target| redact_target(target.as_str()));
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %target,
            http.client_ip = %request.connection_info().realip_remote_addr().unwrap_or(""),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            request_id = %request_id(request),
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The id tracing-actix-web gave the request before its span is made.
fn request_id(request: &ServiceRequest) -> String {
    use actix_web::HttpMessage;
    request
        .extensions()
        .get::<RequestId>()
        .map_or_else(String::new, ToString::to_string)
}

/// `target` (a path and query) with the inbound webhook token in its path,
/// the value of every query parameter that names a credential, and a
/// GraphQL GET's operation and variables masked.
pub fn redact_target(target: &str) -> String {
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let mut redacted = match path.strip_prefix("/webhooks/") {
        Some(token) if !token.is_empty() => {
            let rest = token.find('/').map_or("", |at| &token[at..]);
            format!("/webhooks/{MASK}{rest}")
        }
        _ => path.to_owned(),
    };
    if let Some(query) = query {
        redacted.push('?');
        // A GraphQL GET carries its whole operation in the URL, arguments
        // such as a quick call's token or a password included.
        let graphql = path == "/graphql";
        let pairs = query.split('&').map(|pair| match pair.split_once('=') {
            Some((name, _)) if names_a_credential(name) => format!("{name}={MASK}"),
            Some((name @ ("query" | "variables" | "extensions"), _)) if graphql => {
                format!("{name}={MASK}")
            }
            _ => pair.to_owned(),
        });
        redacted.push_str(&pairs.collect::<Vec<_>>().join("&"));
    }
    redacted
}

/// Whether a query parameter's name says its value is a credential.
fn names_a_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["token", "key", "secret", "password", "signature", "auth"]
        .iter()
        .any(|word| name.contains(word))
}

#[cfg(test)]
mod tests {
    use super::redact_target;

    #[test]
    fn tokens_in_paths_and_queries_are_masked() {
        assert_eq!(redact_target("/webhooks/abc123"), "/webhooks/***");
        assert_eq!(redact_target("/webhooks/abc123?x=1"), "/webhooks/***?x=1");
        assert_eq!(
            redact_target("/v1/integration_points/7/hook?token=s3cret&text=hi"),
            "/v1/integration_points/7/hook?token=***&text=hi"
        );
        assert_eq!(
            redact_target("/graphql?query=%7B__typename%7D&access_token=t&apiKey=k"),
            "/graphql?query=***&access_token=***&apiKey=***"
        );
        assert_eq!(
            redact_target("/graphql?query=q&variables=%7B%22t%22%3A1%7D&operationName=Join"),
            "/graphql?query=***&variables=***&operationName=Join"
        );
        assert_eq!(redact_target("/graphql"), "/graphql");
        assert_eq!(redact_target("/webhooks/"), "/webhooks/");
    }
}
