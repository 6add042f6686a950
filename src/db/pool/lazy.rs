//! A write transaction on a pooled connection, begun at its first
//! statement: a change that runs none may still go as one statement that
//! commits on its own.

use sea_orm::sqlx::{self, Executor};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, Statement};

use super::{Connections, Object, exec_error, pool_error, query, query_error, settles};

/// A transaction on a connection lent by [`Pool::begin`].
pub struct LazyTxn {
    pub(super) connections: Connections,
    /// `None` until the first statement (and once committed or dropped).
    pub(super) lent: tokio::sync::Mutex<Option<Object>>,
    pub(super) backend: DbBackend,
    pub(super) returning: bool,
}

impl LazyTxn {
    fn backend(&self) -> DbBackend {
        self.backend
    }

    /// Whether no statement has run in it yet: it holds no connection, and
    /// the work it was begun for may still go as one statement that
    /// commits on its own.
    pub fn untouched(&self) -> bool {
        self.lent.try_lock().is_ok_and(|lent| lent.is_none())
    }

    /// Takes a connection and begins the transaction on it.
    async fn open(&self) -> Result<Object, DbErr> {
        let mut object = match &self.connections {
            Connections::Sqlite(pool) => Object::Sqlite(pool.get().await.map_err(pool_error)?),
            Connections::Postgres(pool) => Object::Postgres(pool.get().await.map_err(pool_error)?),
        };
        // Unsettled until the transaction has ended: a connection whose
        // BEGIN failed, or dropped with a transaction open that its
        // ROLLBACK could not end, is closed rather than lent again.
        on_object!(&mut object, |lent| {
            lent.unsettled = true;
            lent.conn.execute("BEGIN").await.map(drop)
        })
        .inspect_err(|_| self.connections.record_failure())
        .map_err(exec_error)?;
        Ok(object)
    }

    /// Commits; the connection goes back to its pool if the commit got an
    /// answer from the database, whatever it was. With no statement run,
    /// there is nothing to commit.
    pub async fn commit(mut self) -> Result<(), DbErr> {
        let Some(mut object) = self.lent.get_mut().take() else {
            return Ok(());
        };
        on_object!(&mut object, |lent| {
            let committed = lent.conn.execute("COMMIT").await;
            lent.unsettled = !settles(&committed);
            committed.map(drop).map_err(exec_error)
        })
    }
}

impl Drop for LazyTxn {
    fn drop(&mut self) {
        // Not committed: rolled back off the caller's path, then handed
        // back. Without a runtime to do it on, the connection is closed.
        let Some(mut object) = self.lent.get_mut().take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                on_object!(&mut object, |lent| {
                    let rolled_back = lent.conn.execute("ROLLBACK").await;
                    lent.unsettled = rolled_back.is_err();
                });
            });
        }
    }
}

/// Runs `$run` on the connection `$txn` holds, named `$conn`, begun at
/// the transaction's first statement. (A transaction gives its connection
/// up only as it ends, by value.)
macro_rules! in_transaction {
    ($txn:expr, |$conn:ident| $run:expr) => {{
        let mut held = $txn.lent.lock().await;
        if held.is_none() {
            *held = Some($txn.open().await?);
        }
        let object = held.as_mut().expect("opened just now");
        on_object!(object, |lent| {
            let $conn = &mut lent.conn;
            $run
        })
    }};
}

connection_trait!(LazyTxn, in_transaction);
