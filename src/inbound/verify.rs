//! Checking that a request really comes from the service, in the service's
//! own scheme, when the integration has a secret. Comparisons are
//! constant-time (HMAC `verify_slice`, `subtle` for shared keys).

use base64::{Engine, engine::general_purpose::STANDARD};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Request, Service, fields};
use crate::{
    error::{AppError, AppResult},
    signature::{decode_hex, verify_hmac, verify_junction_signature, verify_standard_signature},
};

/// Signed timestamps older or newer than this are refused (replays).
const TOLERANCE_SECONDS: i64 = 300;

/// `Ok` when the request carries a valid signature for `secret` in the
/// service's scheme; `UNAUTHENTICATED` (401) saying what is wrong otherwise.
pub fn verify(service: Service, secret: &str, request: &Request, now: i64) -> AppResult<()> {
    let key = secret.as_bytes();
    let body = request.body;
    let valid = match service {
        Service::GitHub => hub_signature(request, &["x-hub-signature-256"], secret)?,
        Service::Bitbucket | Service::Jira => {
            hub_signature(request, &["x-hub-signature", "x-hub-signature-256"], secret)?
        }
        Service::Stripe => stripe(request, key, now)?,
        Service::PagerDuty => {
            let header = required(request, "x-pagerduty-signature")?;
            header
                .split(',')
                .filter_map(|s| s.trim().strip_prefix("v1="))
                .filter_map(decode_hex)
                .any(|sig| verify_hmac(key, &[body], &sig))
        }
        Service::Zendesk => {
            let signature = required(request, "x-zendesk-webhook-signature")?;
            let timestamp = required(request, "x-zendesk-webhook-signature-timestamp")?;
            STANDARD
                .decode(signature)
                .is_ok_and(|sig| verify_hmac(key, &[timestamp.as_bytes(), body], &sig))
        }
        Service::Incoming => slack(request, key, now)?,
        Service::Chargify => {
            let header = required(request, "x-chargify-webhook-signature-hmac-sha-256")?;
            decode_hex(&header).is_some_and(|sig| verify_hmac(key, &[body], &sig))
        }
        Service::Netlify => netlify(request, key)?,
        Service::Formstack => {
            // Formstack puts its shared "handshake key" in the body.
            let given = fields::text(&request.payload, "/HandshakeKey")
                .ok_or_else(|| refused("the body has no HandshakeKey"))?;
            bool::from(given.as_bytes().ct_eq(key))
        }
        _ => generic(request, secret, now)?,
    };
    if valid {
        Ok(())
    } else {
        Err(refused(
            "the signature does not match the integration's secret",
        ))
    }
}

fn refused(why: &str) -> AppError {
    AppError::unauthenticated(format!("webhook signature refused: {why}"))
}

fn required(request: &Request, header: &str) -> AppResult<String> {
    request
        .header(header)
        .ok_or_else(|| refused(&format!("the {header} header is missing")))
}

fn within_tolerance(timestamp: &str, now: i64) -> AppResult<()> {
    let t: i64 = timestamp
        .parse()
        .map_err(|_| refused("the signed timestamp is not a number"))?;
    if (now - t).abs() > TOLERANCE_SECONDS {
        return Err(refused("the signed timestamp is too old or in the future"));
    }
    Ok(())
}

/// GitHub, Bitbucket and Jira: `sha256=<hex HMAC of the body>`.
fn hub_signature(request: &Request, headers: &[&str], secret: &str) -> AppResult<bool> {
    let header = headers
        .iter()
        .find_map(|h| request.header(h))
        .ok_or_else(|| refused(&format!("the {} header is missing", headers[0])))?;
    Ok(verify_junction_signature(secret, request.body, &header))
}

/// `Stripe-Signature: t=<ts>,v1=<hex>[,v1=<hex>…]` over `<ts>.<body>`.
fn stripe(request: &Request, key: &[u8], now: i64) -> AppResult<bool> {
    let header = required(request, "stripe-signature")?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t.to_owned()),
            Some(("v1", sig)) => signatures.extend(decode_hex(sig)),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(|| refused("Stripe-Signature has no t="))?;
    within_tolerance(&timestamp, now)?;
    Ok(signatures
        .iter()
        .any(|sig| verify_hmac(key, &[timestamp.as_bytes(), b".", request.body], sig)))
}

/// Slack: `X-Slack-Signature: v0=<hex>` over `v0:<ts>:<body>`.
fn slack(request: &Request, key: &[u8], now: i64) -> AppResult<bool> {
    let signature = required(request, "x-slack-signature")?;
    let timestamp = required(request, "x-slack-request-timestamp")?;
    within_tolerance(&timestamp, now)?;
    let parts: [&[u8]; 4] = [b"v0:", timestamp.as_bytes(), b":", request.body];
    Ok(signature
        .strip_prefix("v0=")
        .and_then(decode_hex)
        .is_some_and(|sig| verify_hmac(key, &parts, &sig)))
}

/// Netlify: `X-Webhook-Signature` is a JWS (HS256) issued by `netlify`
/// whose `sha256` claim is the hex digest of the body.
fn netlify(request: &Request, key: &[u8]) -> AppResult<bool> {
    #[derive(serde::Deserialize)]
    struct Claims {
        sha256: String,
    }
    let token = required(request, "x-webhook-signature")?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.set_issuer(&["netlify"]);
    let Ok(data) = jsonwebtoken::decode::<Claims>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(key),
        &validation,
    ) else {
        return Ok(false);
    };
    let digest = hex::encode(Sha256::digest(request.body));
    Ok(bool::from(
        digest
            .as_bytes()
            .ct_eq(data.claims.sha256.to_ascii_lowercase().as_bytes()),
    ))
}

/// Services without a signing scheme of their own: Standard Webhooks
/// headers, `X-Hub-Signature-256`, or the secret as the HTTP Basic password
/// (what Chargebee, Postmark and PayPal-style set-ups put in the URL).
fn generic(request: &Request, secret: &str, now: i64) -> AppResult<bool> {
    if let Some(signature) = request.header("webhook-signature") {
        let id = required(request, "webhook-id")?;
        let timestamp = required(request, "webhook-timestamp")?;
        within_tolerance(&timestamp, now)?;
        let t: i64 = timestamp.parse().unwrap_or_default();
        return Ok(verify_standard_signature(
            secret,
            &id,
            t,
            request.body,
            &signature,
        ));
    }
    if let Some(header) = request.header("x-hub-signature-256") {
        return Ok(verify_junction_signature(secret, request.body, &header));
    }
    if let Some(password) = basic_password(request) {
        return Ok(bool::from(password.as_bytes().ct_eq(secret.as_bytes())));
    }
    Err(refused(
        "send a webhook-signature (Standard Webhooks), X-Hub-Signature-256 or HTTP Basic credentials",
    ))
}

fn basic_password(request: &Request) -> Option<String> {
    let header = request.header("authorization")?;
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    decoded
        .split_once(':')
        .map(|(_, password)| password.to_owned())
}
