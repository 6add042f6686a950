//! Settings generated once per deployment and shared through the database.

use base64::{Engine, engine::general_purpose::STANDARD};
use entity::instance_setting;
use rand::RngCore;
use sea_orm::{ActiveValue::Set, EntityTrait};

use super::sealing::SESSION_KEY as JWT_SECRET;
use crate::{
    error::AppResult,
    secrets::{Secrets, purpose},
};

/// The JWT key kept in the database (sealed), created on first use.
/// Several processes may start at once: the insert ignores conflicts and
/// everyone re-reads.
pub async fn stored_jwt_secret(db: &crate::db::Db, secrets: &Secrets) -> AppResult<String> {
    if let Some(row) = instance_setting::Entity::find_by_id(JWT_SECRET)
        .one(db)
        .await?
    {
        return secrets.open(purpose::SESSION_KEY, &row.value);
    }
    tracing::warn!(
        "JWT_SECRET is not set: generated one and stored it in the database; \
         set JWT_SECRET to manage the key yourself"
    );
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let row = instance_setting::ActiveModel {
        name: Set(JWT_SECRET.to_owned()),
        value: Set(secrets.seal(purpose::SESSION_KEY, &STANDARD.encode(bytes))),
        created_at: Set(super::ids::now()),
    };
    instance_setting::Entity::insert(row)
        .on_conflict_do_nothing_on([instance_setting::Column::Name])
        .exec(db)
        .await?;
    let row = instance_setting::Entity::find_by_id(JWT_SECRET)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("generated JWT secret vanished"))?;
    secrets.open(purpose::SESSION_KEY, &row.value)
}
