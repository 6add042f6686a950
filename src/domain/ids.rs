//! Identifiers and clocks: UUIDv7 strings sort by creation time, which the
//! cursor pagination relies on.

use chrono::{DateTime, SubsecRound, Utc};

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The smallest id [`new_id`] can make at `at`: every id made before that
/// millisecond sorts below it, every one made at or after it does not.
pub fn first_id_at(at: DateTime<Utc>) -> String {
    let millis = at.timestamp_millis().max(0) as u64;
    uuid::Builder::from_unix_timestamp_millis(millis, &[0; 10])
        .into_uuid()
        .to_string()
}

/// Now, truncated to microseconds: what PostgreSQL keeps, so a value read
/// back equals the value written on every backend.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// `d` as a span to add to or take from [`now`]; zero beyond chrono's
/// range (hundreds of millions of years), which no setting reaches.
pub fn span(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_default()
}

/// Whether a caller-supplied id can be an id of ours at all; anything else
/// is reported as not found without touching the database.
pub fn is_valid(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok()
}

/// `n` random bytes in URL-safe base64: capability tokens in URLs.
pub fn random_token(n: usize) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use rand::RngCore;
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_around_the_first_id_of_their_millisecond() {
        let before = new_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let floor = first_id_at(Utc::now());
        let after = new_id();
        assert!(before < floor, "{before} < {floor}");
        assert!(floor <= after, "{floor} <= {after}");
        assert!(is_valid(&floor));
    }
}
