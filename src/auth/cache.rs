//! A short memory of credentials already checked, so an API client sending
//! hundreds of requests a second with one token does not cost a membership
//! (and token) query on each.
//!
//! Only successful checks are kept, for `AUTH_CACHE_TTL_MS` (2 s by
//! default). Changes to memberships and tokens made in this process clear it
//! at once; a change made by another process of the deployment takes effect
//! here within the TTL.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::Principal;

/// Entries kept at most; past it, expired ones go, then everything.
const CAPACITY: usize = 10_000;

pub struct PrincipalCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Principal)>>,
}

impl PrincipalCache {
    /// A cache keeping entries for `ttl`; a zero TTL keeps nothing.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &str) -> Option<Principal> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some((stored, principal)) if stored.elapsed() < self.ttl => Some(principal.clone()),
            _ => None,
        }
    }

    pub fn put(&self, key: String, principal: &Principal) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            let ttl = self.ttl;
            entries.retain(|_, (stored, _)| stored.elapsed() < ttl);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), principal.clone()));
    }

    /// Forgets everything: after a membership, role or token change.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
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
