//! API tokens: `jct_` followed by 32 random bytes in URL-safe base64. They are
//! high-entropy, so a plain SHA-256 is a safe and fast lookup key.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "jct_";

/// A new token's plaintext (shown once) and its stored hash.
pub fn generate() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&token);
    (token, hash)
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn looks_like_api_token(credential: &str) -> bool {
    credential.starts_with(PREFIX)
}

/// What is kept in clear to tell tokens apart in listings.
pub fn display_prefix(token: &str) -> String {
    token.chars().take(PREFIX.len() + 6).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_prefixed_and_hash_stably() {
        let (a, ha) = generate();
        let (b, _) = generate();
        assert_ne!(a, b);
        assert!(looks_like_api_token(&a));
        assert_eq!(ha, hash(&a));
        assert_eq!(ha.len(), 64);
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
