//! Opening, recycling and pruning pooled connections, and running
//! sea-orm's statements on them through sqlx.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use futures_util::future::BoxFuture;
use sea_orm::{
    ConnAcquireErr, DbErr, RuntimeErr, Statement,
    sea_query::Values,
    sqlx::{self},
};
use sea_query_sqlx::SqlxValues;

/// Opens connections with the options sqlx's pool of the same database
/// uses (SQLite's WAL and pragmas, PostgreSQL's URL), then runs `setup`
/// on each.
pub(super) struct Connect<O: sqlx::ConnectOptions> {
    pub options: O,
    pub setup: Option<Setup<O::Connection>>,
    /// The runtime the pool was made on, where every connection is opened.
    /// A socket belongs to the runtime it was opened on; actix-web serves
    /// each HTTP worker thread from a runtime of its own, stopped at
    /// shutdown, so a connection first opened for a request would lose its
    /// socket while the delivery workers, on this runtime, still finish
    /// their attempts with it (every outcome then failed to record).
    pub runtime: tokio::runtime::Handle,
    pub failures: Failures,
}

/// When a connection last failed below the database: its server went
/// away (a restart, a failover), the network dropped it, a statement on it
/// was cut off. Connections opened before then may be just as dead without
/// knowing it yet, so each is pinged before it is lent again: once the
/// database is back, no request meets a dead connection. Shared by every
/// pool of one database.
#[derive(Clone, Default)]
pub struct Failures(Arc<Mutex<Option<Instant>>>);

impl Failures {
    pub(super) fn record(&self) {
        *self.0.lock().expect("never poisoned") = Some(Instant::now());
    }

    /// Whether a connection last known good at `good` may have died since.
    fn suspect(&self, good: Instant) -> bool {
        self.0
            .lock()
            .expect("never poisoned")
            .is_some_and(|failed| failed >= good)
    }
}

/// A connection idle this long is pinged before it is lent: a server
/// restarted while nothing ran leaves no failure to learn from. Under load
/// connections come back within milliseconds and are never pinged.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

pub(super) type Setup<C> = for<'c> fn(&'c mut C) -> BoxFuture<'c, Result<(), sqlx::Error>>;

/// A pooled connection, and whether a statement started on it has not
/// finished (its future was dropped, or it failed below the database).
pub(super) struct Lent<C> {
    pub conn: C,
    pub unsettled: bool,
    /// When the connection was last known to work (opened, or pinged).
    checked: Instant,
}

impl<O> managed::Manager for Connect<O>
where
    O: sqlx::ConnectOptions,
    O::Connection: Sized + Send,
{
    type Type = Lent<O::Connection>;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Self::Type, sqlx::Error> {
        let (options, setup) = (self.options.clone(), self.setup);
        let conn = self
            .runtime
            .spawn(async move {
                let mut conn = options.connect().await?;
                if let Some(setup) = setup {
                    setup(&mut conn).await?;
                }
                Ok::<_, sqlx::Error>(conn)
            })
            .await
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
            .inspect_err(|_| self.failures.record())?;
        Ok(Lent {
            conn,
            unsettled: false,
            checked: Instant::now(),
        })
    }

    async fn recycle(
        &self,
        lent: &mut Self::Type,
        metrics: &Metrics,
    ) -> RecycleResult<sqlx::Error> {
        if lent.unsettled {
            self.failures.record();
            return Err(RecycleError::message("a statement on it did not finish"));
        }
        let idle = metrics.last_used();
        if idle > IDLE_BEFORE_PING || self.failures.suspect(lent.checked) {
            sqlx::Connection::ping(&mut lent.conn)
                .await
                .inspect_err(|_| self.failures.record())?;
            lent.checked = Instant::now();
        }
        Ok(())
    }
}

/// sqlx's pool's defaults, kept: a connection idle this long is closed,
/// so a burst's connections do not stay open on the database server...
pub(super) const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// ...and one this old is replaced, so a server process's per-connection
/// caches do not grow for the life of the pool.
pub(super) const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Closes idle connections past [`IDLE_TIMEOUT`] or [`MAX_LIFETIME`] once
/// a minute, until the pool is dropped.
pub(super) async fn prune_forever<M: managed::Manager>(pool: managed::WeakPool<M>) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(pool) = pool.upgrade() else { return };
        prune(&pool, IDLE_TIMEOUT, MAX_LIFETIME);
    }
}

/// Closes the idle connections unused for `idle` or older than `lifetime`.
pub(super) fn prune<M: managed::Manager>(
    pool: &managed::Pool<M>,
    idle: Duration,
    lifetime: Duration,
) {
    pool.retain(|_, used| used.last_used() < idle && used.age() < lifetime);
}

/// How many values a statement may bind and still be kept prepared on a
/// connection of this database (see [`query`]).
pub(super) trait KeptPrepared {
    const MAX_VALUES: usize;
}

impl KeptPrepared for sqlx::Sqlite {
    const MAX_VALUES: usize = 64;
}

impl KeptPrepared for sqlx::Postgres {
    const MAX_VALUES: usize = usize::MAX;
}

/// sea-orm's statement as sqlx's query, bound to its values. Taken whole:
/// sqlx copies SQL it is lent, and the values would be cloned.
///
/// sqlx keeps each statement prepared on its connection (up to 100), and
/// a SQLite statement prepared lives in this process's memory. Multi-row
/// statements, such as a batch of delivery outcomes, take a new shape for
/// each row count; kept, a fan-out's drain filled every connection's cache
/// with them: the server's memory grew by about 40 MiB while its backlog
/// shrank, and stayed there. On SQLite such statements run once prepared
/// and are then dropped. PostgreSQL keeps its prepared statements in its
/// own processes, and a change's one statement, which binds every
/// delivery it owes, gains from staying prepared there (see README,
/// the twenty-third machine).
pub(super) fn query<D>(statement: Statement) -> sqlx::query::Query<'static, D, SqlxValues>
where
    D: sqlx::Database + sqlx::database::HasStatementCache + KeptPrepared,
    SqlxValues: for<'q> sqlx::IntoArguments<D>,
{
    let values = statement.values.unwrap_or(Values(Vec::new()));
    let keep = values.0.len() <= D::MAX_VALUES;
    sqlx::query_with(sqlx::AssertSqlSafe(statement.sql), SqlxValues(values)).persistent(keep)
}

/// Whether PostgreSQL's SQLSTATE `code` says the connection is gone or
/// going: class 08 (connection exception) or 57P01–57P05 (the server
/// shutting down, crashed, or not yet taking connections). 57014, a
/// cancelled statement, leaves the connection fit.
pub fn connection_lost(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57P")
}

/// Whether a statement's outcome leaves its connection fit to lend again:
/// the database's own refusals (a constraint, no such row) do; an I/O or
/// protocol error may have left it anywhere. So may a lost connection
/// ([`connection_lost`]): a server shutting down or restarting answers
/// each connection's next statement with 57P01 and then closes it, and
/// sqlx's ping on hand-back used to catch that.
pub(super) fn settles<T>(result: &Result<T, sqlx::Error>) -> bool {
    match result {
        Ok(_) | Err(sqlx::Error::RowNotFound) => true,
        Err(sqlx::Error::Database(error)) => !error
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some_and(|error| connection_lost(error.code())),
        Err(_) => false,
    }
}

/// As sea-orm reports sqlx's pool's failures, so that callers (and
/// [`crate::error`]'s 503 for a pool that timed out) need not tell the
/// pools apart.
pub(super) fn pool_error(error: managed::PoolError<sqlx::Error>) -> DbErr {
    match error {
        managed::PoolError::Backend(error) => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(error))),
        managed::PoolError::Timeout(_) => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        managed::PoolError::Closed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        other => DbErr::Conn(RuntimeErr::Internal(other.to_string())),
    }
}

pub(super) fn query_error(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
}

pub(super) fn exec_error(error: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error)))
}
