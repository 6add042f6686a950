//! Secrets at rest. Whatever must be shown or used again (webhook signing
//! secrets, integration secrets and tokens, channel tokens, quick-call
//! tokens, the generated session key) is stored sealed: encrypted and
//! authenticated with XChaCha20-Poly1305 under a key kept apart from the
//! database (`key`), so a copy of the database file or a backup gives
//! none of them away. A token that requests are matched by is also stored
//! as a keyed hash, its lookup value, so it is found without being
//! decrypted.
//!
//! The key is split into two by HMAC-SHA256 with fixed labels: one seals,
//! one makes lookup values. Its id (`kid`), also derived from it, is kept
//! in the database to catch a process started with the wrong key.

pub mod key;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::error::{AppError, AppResult};

/// What a sealed value is, bound into its seal: a value sealed as one kind
/// does not open as another.
pub mod purpose {
    pub const WEBHOOK_SECRET: &str = "webhook secret";
    pub const INTEGRATION_SECRET: &str = "integration secret";
    pub const INTEGRATION_TOKEN: &str = "integration token";
    pub const CHANNEL_TOKEN: &str = "channel token";
    pub const QUICK_CALL_TOKEN: &str = "quick call token";
    pub const SESSION_KEY: &str = "session key";
    pub const INVITATION_TOKEN: &str = "invitation token";
}

/// How every sealed value begins: the format's version, then the id of
/// the key it was sealed under.
pub const PREFIX: &str = "jx1:";

const NONCE_LEN: usize = 24;

/// Seals and opens values, and makes lookup values, under one key.
pub struct Secrets {
    cipher: XChaCha20Poly1305,
    lookup_key: [u8; 32],
    kid: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets(kid {})", self.kid)
    }
}

fn derive(key: &[u8; 32], label: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

impl Secrets {
    pub fn new(key: &[u8; 32]) -> Self {
        let seal_key = derive(key, "junction seal v1");
        Self {
            cipher: XChaCha20Poly1305::new(&seal_key.into()),
            lookup_key: derive(key, "junction lookup v1"),
            kid: hex::encode(&derive(key, "junction key id v1")[..4]),
        }
    }

    /// The key's id: 8 hex digits, safe to show and to store.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// `plain` sealed as `purpose`: `jx1:<kid>:<base64url(nonce ‖ ciphertext)>`.
    pub fn seal(&self, purpose: &str, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: purpose.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(&XNonce::from(nonce), payload)
            .expect("encrypting in memory does not fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", self.kid, URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn seal_optional(&self, purpose: &str, plain: Option<&str>) -> Option<String> {
        plain.map(|plain| self.seal(purpose, plain))
    }

    /// The value `stored` holds, sealed as `purpose` under this key. Any
    /// other value is an internal error: the database was changed behind
    /// the server's back, or it runs with the wrong key.
    pub fn open(&self, purpose: &str, stored: &str) -> AppResult<String> {
        let fail = |why: &str| AppError::Internal(anyhow::anyhow!("a sealed {purpose}: {why}"));
        let rest = stored
            .strip_prefix(PREFIX)
            .ok_or_else(|| fail("not sealed"))?;
        let (kid, body) = rest.split_once(':').ok_or_else(|| fail("malformed"))?;
        if kid != self.kid {
            return Err(fail(&format!(
                "sealed under key {kid}, this process has key {}",
                self.kid
            )));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| fail("malformed"))?;
        if bytes.len() < NONCE_LEN {
            return Err(fail("malformed"));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at its length");
        let payload = Payload {
            msg: sealed,
            aad: purpose.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(&XNonce::from(nonce), payload)
            .map_err(|_| fail("does not open (altered, or another kind of value)"))?;
        String::from_utf8(plain).map_err(|_| fail("not text"))
    }

    pub fn open_optional(&self, purpose: &str, stored: Option<&str>) -> AppResult<Option<String>> {
        stored.map(|stored| self.open(purpose, stored)).transpose()
    }

    /// The lookup value of `token` as `purpose`: hex HMAC-SHA256 under the
    /// lookup key. Stored beside the sealed token and matched against the
    /// lookup value of what a request presents.
    pub fn lookup(&self, purpose: &str, token: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.lookup_key).expect("any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Whether `stored` is a sealed value (of any key), not a plaintext left
/// from before sealing.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(byte: u8) -> Secrets {
        Secrets::new(&[byte; 32])
    }

    #[test]
    fn a_sealed_value_opens_as_what_was_sealed_and_shows_none_of_it() {
        let secrets = secrets(1);
        let sealed = secrets.seal(purpose::WEBHOOK_SECRET, "whsec_c2VjcmV0");
        assert!(is_sealed(&sealed));
        assert!(sealed.starts_with(&format!("jx1:{}:", secrets.kid())));
        assert!(!sealed.contains("c2VjcmV0"));
        assert_eq!(
            secrets.open(purpose::WEBHOOK_SECRET, &sealed).unwrap(),
            "whsec_c2VjcmV0"
        );
        // A fresh nonce each time.
        assert_ne!(
            sealed,
            secrets.seal(purpose::WEBHOOK_SECRET, "whsec_c2VjcmV0")
        );
    }

    #[test]
    fn a_value_opens_only_as_its_purpose_under_its_key_and_unaltered() {
        let (one, two) = (secrets(1), secrets(2));
        let secrets = one;
        let sealed = secrets.seal(purpose::WEBHOOK_SECRET, "s");
        assert!(secrets.open(purpose::CHANNEL_TOKEN, &sealed).is_err());
        assert!(two.open(purpose::WEBHOOK_SECRET, &sealed).is_err());
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert!(secrets.open(purpose::WEBHOOK_SECRET, &altered).is_err());
        assert!(secrets.open(purpose::WEBHOOK_SECRET, "plain").is_err());
    }

    #[test]
    fn lookup_values_are_keyed_and_stable() {
        let (one, two) = (secrets(1), secrets(2));
        let token = "tok";
        assert_eq!(
            one.lookup(purpose::QUICK_CALL_TOKEN, token),
            one.lookup(purpose::QUICK_CALL_TOKEN, token)
        );
        assert_ne!(
            one.lookup(purpose::QUICK_CALL_TOKEN, token),
            two.lookup(purpose::QUICK_CALL_TOKEN, token)
        );
        assert_ne!(
            one.lookup(purpose::QUICK_CALL_TOKEN, token),
            one.lookup(purpose::CHANNEL_TOKEN, token)
        );
        assert_eq!(one.lookup(purpose::QUICK_CALL_TOKEN, token).len(), 64);
        assert_ne!(one.kid(), two.kid());
        assert_eq!(one.kid(), Secrets::new(&[1; 32]).kid());
    }
}
