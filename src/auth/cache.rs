//! A short memory of credentials already checked, so an API client sending
//! hundreds of requests a second with one token does not cost a membership
//! (and token) query on each.
//!
//! Only successful checks are kept, for `AUTH_CACHE_TTL_MS` (2 s by
//! default). Changes to memberships and tokens made in this process clear it
//! at once; a change made by another process of the deployment takes effect
//! here within the TTL.

use std::time::Duration;

use moka::sync::Cache;

use super::Principal;

/// Entries kept at most.
const CAPACITY: u64 = 10_000;

/// Credentials checked within the TTL, by a key of the credential (an API
/// token's hash, or a session's user and organization); `None` when the TTL
/// is zero: every request is checked.
pub struct PrincipalCache(Option<Cache<String, Principal>>);

impl PrincipalCache {
    /// A cache keeping entries for `ttl`; a zero TTL keeps nothing.
    pub fn new(ttl: Duration) -> Self {
        Self((!ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build()
        }))
    }

    pub fn get(&self, key: &str) -> Option<Principal> {
        self.0.as_ref()?.get(key)
    }

    pub fn put(&self, key: String, principal: &Principal) {
        if let Some(cache) = &self.0 {
            cache.insert(key, principal.clone());
        }
    }

    /// Forgets everything: after a membership, role or token change.
    pub fn clear(&self) {
        if let Some(cache) = &self.0 {
            cache.invalidate_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn principal() -> Principal {
        Principal {
            user_id: "u".into(),
            organization_id: "o".into(),
            role: Role::Member,
            api_token_id: None,
        }
    }

    #[test]
    fn keeps_entries_for_the_ttl_only() {
        let cache = PrincipalCache::new(Duration::from_millis(50));
        cache.put("k".into(), &principal());
        assert_eq!(cache.get("k"), Some(principal()));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("k"), None);
    }

    #[test]
    fn clear_forgets_and_zero_ttl_keeps_nothing() {
        let cache = PrincipalCache::new(Duration::from_secs(60));
        cache.put("k".into(), &principal());
        cache.clear();
        assert_eq!(cache.get("k"), None);
        let off = PrincipalCache::new(Duration::ZERO);
        off.put("k".into(), &principal());
        assert_eq!(off.get("k"), None);
    }
}
