//! Rows read often and changed rarely, kept in memory by each process:
//! bounded, owned by the domain's context. What makes each safe to keep is
//! said where it is used.

use std::sync::Arc;

use entity::organization;
use moka::sync::Cache;

use super::outbox::KnownWebhook;

/// Entries kept at most in each cache.
const CAPACITY: u64 = 10_000;

/// An organization's webhook version and its enabled webhooks at it (see
/// [`super::outbox::enabled_webhooks`]).
pub type Known = (Option<i64>, Arc<Vec<KnownWebhook>>);

#[derive(Clone)]
pub struct Caches {
    /// Each organization's enabled webhooks at the version they were read
    /// at. Versions are random and change on every write to any column of
    /// its webhooks, in any process (triggers keep them), so a version seen
    /// again means the same rows. An organization that never had a webhook
    /// has no version (`None`) and no webhooks, until its first.
    pub webhooks: Cache<String, Known>,
    /// Organizations, which never change once made (nothing updates that
    /// table); ids are UUIDs, unique across databases. Should organizations
    /// ever become editable, this cache must go.
    pub organizations: Cache<String, organization::Model>,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            webhooks: Cache::new(CAPACITY),
            organizations: Cache::new(CAPACITY),
        }
    }
}
