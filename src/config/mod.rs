//! One settings tree, read from flags, environment variables and `.env`.
//! Every field has a working default so a fresh checkout runs unconfigured.

use std::{
    net::{SocketAddr, ToSocketAddrs},
    time::Duration,
};

use clap::{Args, ValueEnum};

mod retry_schedule;
mod secret;

pub use retry_schedule::RetrySchedule;
pub use secret::Secret;

/// Settings shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database to use: a SQLite file (the default, nothing to install) or
    /// `postgres://user@host/db` for production.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://junction.db?mode=rwc",
        global = true
    )]
    pub database_url: String,

    /// Most database connections one process opens: half for transactions,
    /// half for statements run on their own.
    #[arg(
        long,
        env = "DATABASE_MAX_CONNECTIONS",
        default_value_t = 32,
        global = true
    )]
    pub database_max_connections: u32,

    /// Redis, e.g. `redis://127.0.0.1:6379`: subscriptions then fan out
    /// across server processes. Without it everything stays in-process.
    #[arg(long, env = "REDIS_URL", global = true)]
    pub redis_url: Option<String>,

    /// Prefix of every Redis key and channel, so deployments (or tests) can
    /// share one Redis.
    #[arg(long, env = "REDIS_PREFIX", default_value = "junction:", global = true)]
    pub redis_prefix: String,

    /// How long one Redis command may take, in milliseconds, before it
    /// counts as failed. Redis can stall for a second (a fork for a
    /// snapshot, a slow disk under its log); a failed queue push leaves the
    /// delivery to the sweeper, so this is generous.
    #[arg(long, env = "REDIS_TIMEOUT_MS", default_value_t = 5_000, global = true)]
    pub redis_timeout_ms: u64,

    /// Address the HTTP server listens on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,

    /// Public base URL of this deployment (used in generated webhook URLs).
    /// Defaults to `http://<BIND>`.
    #[arg(long, env = "PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// HS256 key for session tokens. When unset, one is generated once and
    /// kept in the database so tokens survive restarts and every process of a
    /// deployment agrees on it.
    #[arg(long, env = "JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// The key that encrypts the secrets and tokens kept in the database:
    /// 32 bytes in base64 (`openssl rand -base64 32`). Every process of a
    /// deployment needs the same one. When unset, it is read from
    /// `SECRET_KEY_FILE`, which is made on first start. PostgreSQL needs
    /// one of the two.
    #[arg(long, env = "SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<Secret>,

    /// Where the key is kept when `SECRET_KEY` is unset: by default
    /// `junction.key` beside the SQLite file. Back it up apart from the
    /// database.
    #[arg(long, env = "SECRET_KEY_FILE", global = true)]
    pub secret_key_file: Option<std::path::PathBuf>,

    /// Lifetime of the session tokens issued by `register` and `login`, in seconds.
    #[arg(long, env = "JWT_TTL_SECONDS", default_value_t = 86_400, global = true)]
    pub jwt_ttl_seconds: u64,

    /// How long a checked session or API token is remembered, in ms: a
    /// membership, role or token change made by another process takes
    /// effect within this time (in the same process, at once). 0 checks the
    /// database on every request.
    #[arg(
        long,
        env = "AUTH_CACHE_TTL_MS",
        default_value_t = 2_000,
        global = true
    )]
    pub auth_cache_ttl_ms: u64,

    /// Allow webhook and channel targets on loopback, private and link-local
    /// addresses (for tests and closed networks only). Accepts true/false,
    /// 1/0, yes/no, on/off.
    #[arg(
        long,
        env = "ALLOW_PRIVATE_TARGETS",
        default_value_t = false,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
        global = true
    )]
    pub allow_private_targets: bool,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Seconds a client has to send a request's whole body. A body that
    /// stalls would otherwise hold one of `MAX_INFLIGHT_REQUESTS` for as
    /// long as its connection stays open (actix-web times out only the
    /// head), and enough of them would shut everyone else out.
    #[arg(
        long,
        env = "BODY_TIMEOUT_SECONDS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub body_timeout_seconds: u64,

    /// Requests one server process works on at once. Past it, a request is
    /// refused at once with 503 and `Retry-After` rather than queued: an
    /// overloaded server answers quickly and keeps its memory bounded.
    /// Health checks and metrics are never refused.
    #[arg(
        long,
        env = "MAX_INFLIGHT_REQUESTS",
        default_value_t = 1024,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub max_inflight_requests: u32,

    /// Deepest GraphQL selection accepted.
    #[arg(long, env = "GRAPHQL_MAX_DEPTH", default_value_t = 12, global = true)]
    pub graphql_max_depth: usize,

    /// Highest GraphQL query complexity accepted (one per field, times the
    /// page size on connections).
    #[arg(
        long,
        env = "GRAPHQL_MAX_COMPLEXITY",
        default_value_t = 2_000,
        global = true
    )]
    pub graphql_max_complexity: usize,

    /// Answer introspection (`__schema`, `__type`): GraphiQL's docs, code
    /// generators and API tools read the schema through it. Turn off where
    /// the schema should not be readable. Accepts true/false, 1/0, yes/no,
    /// on/off.
    #[arg(
        long,
        env = "GRAPHQL_INTROSPECTION",
        default_value_t = true,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
        global = true
    )]
    pub graphql_introspection: bool,

    /// Origins whose pages may call the API from a browser (CORS),
    /// comma-separated, e.g. `https://app.example.com`; `*` allows any.
    /// None by default.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_allowed_origins: Vec<String>,

    /// Most operations one batched GraphQL request may hold. Every
    /// operation of a batch is answered in one response: a 1 MiB body of
    /// 37,000 `{ __typename }` took the server from 54 to 209 MiB at once.
    #[arg(
        long,
        env = "GRAPHQL_MAX_BATCH",
        default_value_t = 100,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub graphql_max_batch: u32,

    /// Password tries per account (at `login`) or per quick call (at
    /// `joinQuickCall`) within `LOGIN_LOCKOUT_SECONDS` of the first; past
    /// them every try is refused with 429 `TOO_MANY_REQUESTS` until the
    /// window ends. The right password clears the count. 0: no limit.
    #[arg(long, env = "LOGIN_MAX_FAILURES", default_value_t = 10, global = true)]
    pub login_max_failures: u32,

    /// The window `LOGIN_MAX_FAILURES` counts in, in seconds.
    #[arg(
        long,
        env = "LOGIN_LOCKOUT_SECONDS",
        default_value_t = 900,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub login_lockout_seconds: u64,

    /// Run delivery workers inside `junction serve` (the default). Turn off
    /// when separate `junction worker` processes do the delivering.
    #[arg(
        long,
        env = "IN_PROCESS_WORKERS",
        default_value_t = true,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
        global = true
    )]
    pub in_process_workers: bool,

    /// Delivery attempts one worker process runs at once.
    #[arg(long, env = "WORKER_CONCURRENCY", default_value_t = 256, global = true)]
    pub worker_concurrency: usize,

    /// How long one delivery attempt may take, in seconds.
    #[arg(
        long,
        env = "DELIVERY_TIMEOUT_SECONDS",
        default_value_t = 15,
        global = true
    )]
    pub delivery_timeout_seconds: u64,

    /// Delays before each attempt of a delivery, comma-separated (units ms,
    /// s, m, h, d); each is jittered by up to ±20%.
    #[arg(
        long,
        env = "RETRY_SCHEDULE",
        default_value = "0s,5s,5m,30m,2h,5h,10h,10h",
        global = true
    )]
    pub retry_schedule: RetrySchedule,

    /// Failed attempts in a row after which a webhook turns UNHEALTHY.
    #[arg(
        long,
        env = "UNHEALTHY_AFTER_FAILURES",
        default_value_t = 3,
        global = true
    )]
    pub unhealthy_after_failures: u32,

    /// A webhook failing without a single success for this long, in
    /// seconds, is disabled.
    #[arg(long, env = "DISABLE_AFTER_SECONDS", default_value_t = 3 * 86_400, global = true)]
    pub disable_after_seconds: u64,

    /// How long a rotated-out webhook secret keeps signing, in seconds,
    /// when the rotation does not say.
    #[arg(
        long,
        env = "SECRET_GRACE_SECONDS",
        default_value_t = 86_400,
        global = true
    )]
    pub secret_grace_seconds: u64,

    /// How often the sweeper looks for due deliveries that lost their job,
    /// in milliseconds.
    #[arg(
        long,
        env = "SWEEP_INTERVAL_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub sweep_interval_ms: u64,

    /// A due delivery nobody has started for this long, in seconds, is
    /// assumed to have lost its job and is queued again.
    #[arg(long, env = "SWEEP_GRACE_SECONDS", default_value_t = 30, global = true)]
    pub sweep_grace_seconds: u64,

    /// Settled deliveries and their attempts are deleted this long, in
    /// seconds, after they were made and last changed; 0 keeps them
    /// forever. Events themselves are kept.
    #[arg(
        long,
        env = "DELIVERY_RETENTION_SECONDS",
        default_value_t = 30 * 86_400,
        global = true
    )]
    pub delivery_retention_seconds: u64,

    /// Log format on standard output. The level follows `RUST_LOG` (default `info`).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// Whether `text` is a web origin as browsers send it in `Origin`.
fn is_origin(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.origin().ascii_serialization() == text
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Settings {
    /// Catches settings that would only fail later, at the first request.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.bind_addrs()?;
        if !(self.database_url.starts_with("sqlite:") || self.database_url.starts_with("postgres"))
        {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres://");
        }
        if let Some(secret) = &self.jwt_secret
            && secret.expose().len() < 32
        {
            anyhow::bail!("JWT_SECRET must be at least 32 characters");
        }
        if self.worker_concurrency == 0 || self.delivery_timeout_seconds == 0 {
            anyhow::bail!("WORKER_CONCURRENCY and DELIVERY_TIMEOUT_SECONDS must be positive");
        }
        if let Some(url) = &self.redis_url
            && !(url.starts_with("redis://")
                || url.starts_with("rediss://")
                || url.starts_with("redis+unix://")
                || url.starts_with("unix://"))
        {
            anyhow::bail!("REDIS_URL must start with redis:// (or rediss://), e.g. redis://{url}");
        }
        if let Some(origin) = self
            .cors_allowed_origins
            .iter()
            .find(|o| *o != "*" && !is_origin(o))
        {
            anyhow::bail!(
                "CORS_ALLOWED_ORIGINS: {origin:?} is not an origin such as https://app.example.com \
                 (scheme, host, optional port; no path, not even a trailing /)"
            );
        }
        if self.jwt_ttl_seconds == 0 {
            anyhow::bail!("JWT_TTL_SECONDS must be positive");
        }
        Ok(())
    }

    /// The addresses `BIND` names: an IP address or a host name (such as
    /// `localhost`), and a port.
    pub fn bind_addrs(&self) -> anyhow::Result<Vec<SocketAddr>> {
        let addrs: Vec<SocketAddr> = self
            .bind
            .to_socket_addrs()
            .map_err(|e| anyhow::anyhow!("BIND {:?} is not host:port ({e})", self.bind))?
            .collect();
        anyhow::ensure!(!addrs.is_empty(), "BIND {:?} names no address", self.bind);
        Ok(addrs)
    }

    pub fn jwt_ttl(&self) -> Duration {
        Duration::from_secs(self.jwt_ttl_seconds)
    }

    /// `PUBLIC_URL` without a trailing slash, or `http://<BIND>`.
    pub fn public_base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.bind),
        }
    }

    pub fn delivery_timeout(&self) -> Duration {
        Duration::from_secs(self.delivery_timeout_seconds)
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}
