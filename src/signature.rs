//! Signing outbound webhook bodies, two ways at once:
//!
//! * `X-Junction-Signature: sha256=<hex>`: HMAC-SHA256 of the raw body with
//!   the secret's bytes as key — what Blue's Node.js sample computes.
//! * Standard Webhooks (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature: v1,<base64>`): HMAC-SHA256 of `id.timestamp.body`;
//!   for `whsec_` secrets the key is the base64-decoded rest.
//!
//! Pure functions; comparisons are constant-time.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const WHSEC: &str = "whsec_";

/// A new secret in the Standard Webhooks form: `whsec_` + 24 random bytes.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!("{WHSEC}{}", STANDARD.encode(bytes))
}

fn mac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// The Standard Webhooks key of a secret: the decoded part after `whsec_`,
/// or the secret's own bytes when it is not of that form.
fn standard_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix(WHSEC)
        .and_then(|b64| STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// `sha256=<hex>` of `body`, keyed with the secret's bytes.
pub fn junction_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = mac(secret.as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// `v1,<base64>` over `id.timestamp.body`.
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(&standard_key(secret));
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Checks an `X-Junction-Signature` header value in constant time.
pub fn verify_junction_signature(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    decode_hex(hex).is_some_and(|expected| verify_hmac(secret.as_bytes(), &[body], &expected))
}

/// Whether `expected` is the HMAC-SHA256 of `parts` (concatenated) under
/// `key`, compared in constant time. Shared with inbound verification.
pub fn verify_hmac(key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    let mut mac = mac(key);
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(expected).is_ok()
}

/// Checks a `webhook-signature` header (one or more space-separated
/// `v1,<base64>`) in constant time.
pub fn verify_standard_signature(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
) -> bool {
    header
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|b64| {
            let Ok(expected) = STANDARD.decode(b64) else {
                return false;
            };
            let mut mac = mac(&standard_key(secret));
            mac.update(format!("{id}.{timestamp}.").as_bytes());
            mac.update(body);
            mac.verify_slice(&expected).is_ok()
        })
}

/// The bytes of a hex string (either case); `None` for anything else.
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;

    #[test]
    fn standard_webhooks_test_vector() {
        let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
        let signature =
            standard_signature(secret, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, BODY);
        assert_eq!(signature, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
        assert!(verify_standard_signature(
            secret,
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            BODY,
            &signature
        ));
        assert!(!verify_standard_signature(
            secret,
            "msg_other",
            1649367553,
            BODY,
            &signature
        ));
    }

    #[test]
    fn standard_signatures_match_the_reference_implementation() {
        let secret = generate_secret();
        let reference = standardwebhooks::Webhook::new(&secret).unwrap();
        let ours = standard_signature(&secret, "msg_1", 1_700_000_000, BODY);
        assert_eq!(ours, reference.sign("msg_1", 1_700_000_000, BODY).unwrap());
    }

    #[test]
    fn junction_signature_is_the_hex_hmac_of_the_body_keyed_by_the_secret() {
        // Computed independently with Python: hmac.new(b"secret", BODY, hashlib.sha256).hexdigest()
        assert_eq!(
            junction_signature("secret", BODY),
            "sha256=56bdefb2cc134f02e5b8dd50cf8455441d886c3e76a98def71f52708c0fd80e8"
        );
    }

    #[test]
    fn junction_signatures_verify_and_reject() {
        let header = junction_signature("s3cret", BODY);
        assert!(verify_junction_signature("s3cret", BODY, &header));
        assert!(!verify_junction_signature("other", BODY, &header));
        assert!(!verify_junction_signature("s3cret", b"{}", &header));
        assert!(!verify_junction_signature("s3cret", BODY, "sha256=zz"));
        assert!(!verify_junction_signature("s3cret", BODY, "md5=00"));
    }

    #[test]
    fn generated_secrets_are_whsec_with_24_random_bytes() {
        let (a, b) = (generate_secret(), generate_secret());
        assert_ne!(a, b);
        assert_eq!(
            STANDARD
                .decode(a.strip_prefix("whsec_").unwrap())
                .unwrap()
                .len(),
            24
        );
    }
}
