//! Session tokens: HS256 JWTs naming the user and the organization they act in.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Organization id.
    pub org: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signs and checks session tokens with one key.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl,
        }
    }

    pub fn issue(&self, user_id: &str, organization_id: &str) -> AppResult<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_owned(),
            org: organization_id.to_owned(),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("signing JWT: {e}")))
    }

    pub fn verify(&self, token: &str) -> AppResult<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AppError::unauthenticated("token has expired"),
                _ => AppError::unauthenticated("token is invalid"),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let token = keys.issue("u1", "o1").unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.org.as_str()), ("u1", "o1"));

        let other = JwtKeys::new(
            b"another-key-another-key-another!!",
            Duration::from_secs(60),
        );
        assert!(
            matches!(other.verify(&token), Err(AppError::Unauthenticated(m)) if m == "token is invalid")
        );

        let expired = JwtKeys::new(b"0123456789abcdef0123456789abcdef", Duration::ZERO);
        let token = expired.issue("u1", "o1").unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert!(
            matches!(keys.verify(&token), Err(AppError::Unauthenticated(m)) if m == "token has expired")
        );
    }
}
