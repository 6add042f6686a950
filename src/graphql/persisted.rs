//! Automatic persisted queries, Apollo's APQ protocol, which Apollo Client
//! and urql speak: a client sends only its query's SHA-256 in
//! `extensions.persistedQuery`; when the server does not know that hash it
//! answers `PersistedQueryNotFound`, and the client sends hash and text
//! once. Known queries are kept in-process and, with `REDIS_URL`, in Redis,
//! so that every server of a deployment answers a hash another learned.

use std::{sync::Arc, time::Duration};

use async_graphql::{Request, ServerError, Value};
use moka::sync::Cache;
use sha2::{Digest, Sha256};

use super::errors::{BAD_REQUEST, coded};

/// The message Apollo's clients look for before sending the query's text.
pub const NOT_FOUND: &str = "PersistedQueryNotFound";
/// Bytes of query text each process keeps; any other is looked up in Redis.
const KEPT_BYTES: u64 = 4 * 1024 * 1024;
/// A query nobody sent for this long leaves Redis; a client that still
/// has it sends its text again.
const REDIS_TTL: Duration = Duration::from_secs(7 * 86_400);
/// Longest query text kept; a longer one is answered but not kept.
const MAX_TEXT: usize = 16 * 1024;

#[derive(Clone)]
pub struct PersistedQueries {
    kept: Cache<String, Arc<str>>,
    redis: Option<(redis::aio::ConnectionManager, String)>,
}

/// A query's text a client sent with its hash, to keep once the request
/// proved to be a valid GraphQL request: nothing unvalidated is kept.
#[derive(Debug)]
pub struct Learned {
    hash: String,
    query: Arc<str>,
}

impl PersistedQueries {
    /// `prefix`: the deployment's Redis key prefix.
    pub fn new(redis: Option<redis::aio::ConnectionManager>, prefix: &str) -> Self {
        Self {
            kept: Cache::builder()
                .weigher(|hash: &String, query: &Arc<str>| {
                    u32::try_from(hash.len() + query.len()).unwrap_or(u32::MAX)
                })
                .max_capacity(KEPT_BYTES)
                .build(),
            redis: redis.map(|conn| (conn, format!("{prefix}apq:"))),
        }
    }

    /// Gives a request that names a persisted query its text, or checks
    /// the text it brings against its hash: then the text is returned, to
    /// [`learn`](Self::learn) once the request was answered. A request
    /// without the extension passes unchanged.
    pub async fn resolve(&self, request: &mut Request) -> Result<Option<Learned>, ServerError> {
        let Some(extension) = request.extensions.0.get("persistedQuery") else {
            return Ok(None);
        };
        let hash = requested_hash(extension)?;
        if request.query.is_empty() {
            return match self.get(&hash).await {
                Some(query) => {
                    request.query = query.to_string();
                    Ok(None)
                }
                None => Err(coded(NOT_FOUND, "PERSISTED_QUERY_NOT_FOUND")),
            };
        }
        if hex::encode(Sha256::digest(request.query.as_bytes())) != hash {
            return Err(coded("provided sha does not match query", BAD_REQUEST));
        }
        Ok((request.query.len() <= MAX_TEXT).then(|| Learned {
            hash,
            query: Arc::from(request.query.as_str()),
        }))
    }

    /// Keeps a query that was answered; in Redis too when `shared` (for
    /// signed-in callers only, so that nobody else can fill Redis, which
    /// also holds the delivery queue).
    pub async fn learn(&self, learned: Learned, shared: bool) {
        if let (true, Some((conn, prefix))) = (shared, &self.redis) {
            let stored: redis::RedisResult<()> = redis::cmd("SET")
                .arg(format!("{prefix}{}", learned.hash))
                .arg(&*learned.query)
                .arg("EX")
                .arg(REDIS_TTL.as_secs())
                .query_async(&mut conn.clone())
                .await;
            if let Err(error) = stored {
                tracing::warn!(%error, "persisted query not stored in Redis");
            }
        }
        self.kept.insert(learned.hash, learned.query);
    }

    async fn get(&self, hash: &str) -> Option<Arc<str>> {
        if let Some(query) = self.kept.get(hash) {
            return Some(query);
        }
        let (conn, prefix) = self.redis.as_ref()?;
        // GETEX: each use keeps the query another REDIS_TTL.
        let found: redis::RedisResult<Option<String>> = redis::cmd("GETEX")
            .arg(format!("{prefix}{hash}"))
            .arg("EX")
            .arg(REDIS_TTL.as_secs())
            .query_async(&mut conn.clone())
            .await;
        match found {
            Ok(query) => {
                let query: Arc<str> = Arc::from(query?);
                self.kept.insert(hash.to_owned(), query.clone());
                Some(query)
            }
            // The client sends the text next; nothing is lost.
            Err(error) => {
                tracing::warn!(%error, "persisted query lookup in Redis failed");
                None
            }
        }
    }
}

/// The lowercase hex SHA-256 of `{"version": 1, "sha256Hash": …}`.
fn requested_hash(extension: &Value) -> Result<String, ServerError> {
    let bad = || {
        coded(
            "extensions.persistedQuery must be {\"version\": 1, \"sha256Hash\": \"<64 hex digits>\"}",
            BAD_REQUEST,
        )
    };
    let Value::Object(fields) = extension else {
        return Err(bad());
    };
    let version = fields.get("version");
    if version != Some(&Value::from(1)) {
        return Err(coded(
            "only version 1 of persisted queries is supported",
            BAD_REQUEST,
        ));
    }
    match fields.get("sha256Hash") {
        Some(Value::String(hash))
            if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(hash.to_ascii_lowercase())
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::Name;

    use super::*;

    fn request(query: &str, hash: &str) -> Request {
        let mut extension = async_graphql::indexmap::IndexMap::new();
        extension.insert(Name::new("version"), Value::from(1));
        extension.insert(Name::new("sha256Hash"), Value::from(hash));
        let mut request = Request::new(query);
        request
            .extensions
            .0
            .insert("persistedQuery".into(), Value::Object(extension));
        request
    }

    #[tokio::test]
    async fn a_hash_is_answered_once_its_query_was_sent() {
        let queries = PersistedQueries::new(None, "t:");
        let query = "{ __typename }";
        let hash = hex::encode(Sha256::digest(query));

        let error = queries.resolve(&mut request("", &hash)).await.unwrap_err();
        assert_eq!(error.message, NOT_FOUND);

        let wrong = queries
            .resolve(&mut request("{ me { id } }", &hash))
            .await
            .unwrap_err();
        assert_eq!(wrong.message, "provided sha does not match query");

        let learned = queries.resolve(&mut request(query, &hash)).await.unwrap();
        let error = queries.resolve(&mut request("", &hash)).await.unwrap_err();
        assert_eq!(error.message, NOT_FOUND, "not kept before it was answered");
        queries.learn(learned.unwrap(), false).await;
        let mut by_hash = request("", &hash);
        queries.resolve(&mut by_hash).await.unwrap();
        assert_eq!(by_hash.query, query);

        let error = queries.resolve(&mut request("", "abc")).await.unwrap_err();
        assert!(error.message.contains("64 hex digits"), "{}", error.message);
    }
}
