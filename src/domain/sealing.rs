//! Every sealed column in one place (see `crate::secrets`): the check at
//! start that this process has the database's key, the sealing of values
//! stored in clear before secrets were sealed, and the re-sealing under a
//! new key (`junction rotate-secret-key`).

use entity::{event, instance_setting};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Alias, Expr, ExprTrait, Query},
};

use crate::{
    db::Db,
    error::AppResult,
    events::types,
    secrets::{Secrets, is_sealed, purpose},
};

/// A sealed column: its table, the column, what it holds, and the column
/// of its lookup value when requests find rows by it.
struct SealedColumn {
    table: &'static str,
    column: &'static str,
    purpose: &'static str,
    lookup: Option<&'static str>,
}

const SEALED: [SealedColumn; 8] = [
    SealedColumn {
        table: "webhooks",
        column: "secret",
        purpose: purpose::WEBHOOK_SECRET,
        lookup: None,
    },
    SealedColumn {
        table: "webhooks",
        column: "previous_secret",
        purpose: purpose::WEBHOOK_SECRET,
        lookup: None,
    },
    SealedColumn {
        table: "integrations",
        column: "secret",
        purpose: purpose::INTEGRATION_SECRET,
        lookup: None,
    },
    SealedColumn {
        table: "integrations",
        column: "token",
        purpose: purpose::INTEGRATION_TOKEN,
        lookup: Some("token_hash"),
    },
    SealedColumn {
        table: "integration_points",
        column: "token_local",
        purpose: purpose::CHANNEL_TOKEN,
        lookup: Some("token_local_hash"),
    },
    SealedColumn {
        table: "integration_points",
        column: "token_remote",
        purpose: purpose::CHANNEL_TOKEN,
        lookup: None,
    },
    SealedColumn {
        table: "integration_points",
        column: "token_remote2",
        purpose: purpose::CHANNEL_TOKEN,
        lookup: None,
    },
    SealedColumn {
        table: "quick_calls",
        column: "token",
        purpose: purpose::QUICK_CALL_TOKEN,
        lookup: Some("token_hash"),
    },
];

/// The tables that hold sealed values.
const TABLES: [&str; 6] = [
    "events",
    "webhooks",
    "integrations",
    "integration_points",
    "quick_calls",
    "instance_settings",
];

/// The `instance_settings` row naming the key the database is sealed
/// under, and the one holding the generated session key.
const KEY_ID: &str = "secret_key_id";
pub const SESSION_KEY: &str = "jwt_secret";

/// Makes sure `secrets` is the database's key (recording it on first
/// start) and seals whatever is still stored in clear: an existing
/// database is sealed in place, once.
pub async fn prepare(db: &Db, secrets: &Secrets) -> anyhow::Result<()> {
    let recorded = instance_setting::Entity::find_by_id(KEY_ID)
        .one(db)
        .await?
        .map(|row| row.value);
    // The first start of a version that seals, on this database.
    let first = recorded.is_none();
    if first {
        let row = instance_setting::ActiveModel {
            name: Set(KEY_ID.to_owned()),
            value: Set(secrets.kid().to_owned()),
            created_at: Set(super::ids::now()),
        };
        instance_setting::Entity::insert(row)
            .on_conflict_do_nothing_on([instance_setting::Column::Name])
            .exec_without_returning(db)
            .await?;
    }
    let recorded = instance_setting::Entity::find_by_id(KEY_ID)
        .one(db)
        .await?
        .map(|row| row.value)
        .unwrap_or_default();
    anyhow::ensure!(
        recorded == secrets.kid(),
        "the database is sealed under secret key {recorded}, but this process has key {} \
         (SECRET_KEY or SECRET_KEY_FILE): start it with the key the database was made with",
        secrets.kid()
    );
    let txn = db.begin().await?;
    let mut sealed = reseal(&txn, None, secrets).await?;
    if first {
        sealed += forget_quick_call_urls(&txn).await?;
    }
    txn.commit().await?;
    if sealed > 0 {
        tracing::warn!(sealed, "sealed the secrets and tokens stored in clear");
        purge(db).await;
    }
    Ok(())
}

/// Removes the URL, which holds the call's token, from the
/// `QUICK_CALL_CREATED` events versions before sealing stored it in.
async fn forget_quick_call_urls(conn: &impl ConnectionTrait) -> AppResult<u64> {
    let events = event::Entity::find()
        .filter(event::Column::EventType.eq(types::QUICK_CALL_CREATED))
        .all(conn)
        .await?;
    let mut changed = 0;
    for found in events {
        let mut value = found.current_value.clone();
        if value
            .as_object_mut()
            .and_then(|v| v.remove("url"))
            .is_none()
        {
            continue;
        }
        event::Entity::update_many()
            .col_expr(event::Column::CurrentValue, Expr::value(value))
            .filter(event::Column::Id.eq(found.id))
            .exec(conn)
            .await?;
        changed += 1;
    }
    Ok(changed)
}

/// Rewrites the tables that held what was sealed, so no freed page keeps
/// it. A failure leaves the values sealed, only their old copies behind.
pub async fn purge(db: &Db) {
    if let Err(error) = db.purge_freed_pages(&TABLES).await {
        tracing::warn!(%error, "clearing the freed pages that held secrets in clear failed; run VACUUM");
    }
}

/// Re-seals every sealed value under `new` (and its lookup values), in one
/// transaction, and records `new` as the database's key. The processes
/// using the database must be stopped, and started again with `new`.
pub async fn rotate(db: &Db, old: &Secrets, new: &Secrets) -> anyhow::Result<u64> {
    let txn = db.begin().await?;
    let resealed = reseal(&txn, Some(old), new).await?;
    let update = Query::update()
        .table(Alias::new("instance_settings"))
        .value(Alias::new("value"), new.kid())
        .and_where(Expr::col(Alias::new("name")).eq(KEY_ID))
        .to_owned();
    txn.execute(&update).await?;
    txn.commit().await?;
    Ok(resealed)
}

/// Seals each value under `to`: with `from`, every value (opened with
/// `from`); without, only those still in clear. Returns how many changed.
async fn reseal(
    conn: &impl ConnectionTrait,
    from: Option<&Secrets>,
    to: &Secrets,
) -> AppResult<u64> {
    let mut changed = 0;
    for sealed in &SEALED {
        changed += reseal_column(conn, sealed, "id", None, from, to).await?;
    }
    let session_key = SealedColumn {
        table: "instance_settings",
        column: "value",
        purpose: purpose::SESSION_KEY,
        lookup: None,
    };
    changed += reseal_column(conn, &session_key, "name", Some(SESSION_KEY), from, to).await?;
    Ok(changed)
}

async fn reseal_column(
    conn: &impl ConnectionTrait,
    sealed: &SealedColumn,
    id: &str,
    only: Option<&str>,
    from: Option<&Secrets>,
    to: &Secrets,
) -> AppResult<u64> {
    let (table, column, id) = (
        Alias::new(sealed.table),
        Alias::new(sealed.column),
        Alias::new(id),
    );
    let mut select = Query::select()
        .columns([id.clone(), column.clone()])
        .from(table.clone())
        .and_where(Expr::col(column.clone()).is_not_null())
        .to_owned();
    if from.is_none() {
        // Only what is still in clear.
        select
            .and_where(Expr::col(column.clone()).not_like(format!("{}%", crate::secrets::PREFIX)));
    }
    if let Some(only) = only {
        select.and_where(Expr::col(id.clone()).eq(only));
    }
    let rows = conn.query_all(&select).await?;
    let mut changed = 0;
    for row in rows {
        let (key, stored): (String, String) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
        let plain = match (is_sealed(&stored), from) {
            (false, _) => stored,
            (true, Some(from)) => from.open(sealed.purpose, &stored)?,
            (true, None) => continue,
        };
        let mut update = Query::update()
            .table(table.clone())
            .value(column.clone(), to.seal(sealed.purpose, &plain))
            .and_where(Expr::col(id.clone()).eq(key))
            .to_owned();
        if let Some(lookup) = sealed.lookup {
            update.value(Alias::new(lookup), to.lookup(sealed.purpose, &plain));
        }
        conn.execute(&update).await?;
        changed += 1;
    }
    Ok(changed)
}
