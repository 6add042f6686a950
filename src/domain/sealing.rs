//! Every sealed column in one place (see `crate::secrets`): the check at
//! start that this process has the database's key, the sealing of values
//! stored in clear before secrets were sealed, and the re-sealing under a
//! new key (`junction rotate-secret-key`).

use entity::instance_setting;
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, EntityTrait,
    sea_query::{Alias, Expr, ExprTrait, Query},
};

use crate::{
    db::Db,
    error::AppResult,
    secrets::{Secrets, is_sealed, purpose},
};

/// A sealed column: its table, the column, what it holds, and the column
/// of its lookup value when requests find rows by it.
struct Sealed {
    table: &'static str,
    column: &'static str,
    purpose: &'static str,
    lookup: Option<&'static str>,
}

const SEALED: [Sealed; 8] = [
    Sealed {
        table: "webhooks",
        column: "secret",
        purpose: purpose::WEBHOOK_SECRET,
        lookup: None,
    },
    Sealed {
        table: "webhooks",
        column: "previous_secret",
        purpose: purpose::WEBHOOK_SECRET,
        lookup: None,
    },
    Sealed {
        table: "integrations",
        column: "secret",
        purpose: purpose::INTEGRATION_SECRET,
        lookup: None,
    },
    Sealed {
        table: "integrations",
        column: "token",
        purpose: purpose::INTEGRATION_TOKEN,
        lookup: Some("token_hash"),
    },
    Sealed {
        table: "integration_points",
        column: "token_local",
        purpose: purpose::CHANNEL_TOKEN,
        lookup: Some("token_local_hash"),
    },
    Sealed {
        table: "integration_points",
        column: "token_remote",
        purpose: purpose::CHANNEL_TOKEN,
        lookup: None,
    },
    Sealed {
        table: "integration_points",
        column: "token_remote2",
        purpose: purpose::CHANNEL_TOKEN,
        lookup: None,
    },
    Sealed {
        table: "quick_calls",
        column: "token",
        purpose: purpose::QUICK_CALL_TOKEN,
        lookup: Some("token_hash"),
    },
];

/// The tables that hold sealed values.
const TABLES: [&str; 5] = [
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
    let row = instance_setting::ActiveModel {
        name: Set(KEY_ID.to_owned()),
        value: Set(secrets.kid().to_owned()),
        created_at: Set(super::ids::now()),
    };
    instance_setting::Entity::insert(row)
        .on_conflict_do_nothing_on([instance_setting::Column::Name])
        .exec_without_returning(db)
        .await?;
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
    let sealed = reseal(&txn, None, secrets).await?;
    txn.commit().await?;
    if sealed > 0 {
        db.purge_freed_pages(&TABLES).await?;
        tracing::warn!(sealed, "sealed the secrets and tokens stored in clear");
    }
    Ok(())
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
    db.purge_freed_pages(&TABLES).await?;
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
    let session_key = Sealed {
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
    sealed: &Sealed,
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
