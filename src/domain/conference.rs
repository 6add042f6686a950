//! Conference rooms (managed by admins) and their reservations (made by any
//! member; reservations of one room never overlap).

use chrono::{DateTime, Utc};
use entity::{conference_room, reservation};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;

use super::{
    accounts::{self, required_text},
    ids,
    json::{conference_room_json, reservation_json},
    scoped::find_by_id,
};
use crate::{
    auth::Principal,
    domain::Ctx,
    domain::change::Change,
    error::{AppError, AppResult},
    events::types,
};

#[derive(Debug, Default)]
pub struct RoomInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub capacity: Option<i32>,
}

pub async fn room_for_read(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
) -> AppResult<conference_room::Model> {
    find_by_id::<conference_room::Entity>(
        conn,
        id,
        "conference room",
        Some((
            conference_room::Column::OrganizationId,
            &who.organization_id,
        )),
    )
    .await
}

async fn room_payload(change: &Change<'_>, room: &conference_room::Model) -> AppResult<Value> {
    let org = accounts::organization_by_id(change.ctx(), &**change, &room.organization_id).await?;
    Ok(conference_room_json(room, &org))
}

fn check_capacity(capacity: i32) -> AppResult<i32> {
    if capacity < 0 {
        return Err(AppError::validation("`capacity` must not be negative"));
    }
    Ok(capacity)
}

pub async fn list_rooms(app: &Ctx, who: &Principal) -> AppResult<Vec<conference_room::Model>> {
    Ok(conference_room::Entity::find()
        .filter(conference_room::Column::OrganizationId.eq(&who.organization_id))
        .order_by_asc(conference_room::Column::Name)
        .all(&app.db)
        .await?)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id))]
pub async fn create_room(
    app: &Ctx,
    who: &Principal,
    input: RoomInput,
) -> AppResult<conference_room::Model> {
    who.require_admin()?;
    let name = required_text("name", input.name.as_deref().unwrap_or(""), 200)?;
    let capacity = check_capacity(input.capacity.unwrap_or(0))?;
    let mut change = Change::begin(app, who).await?;
    let now = ids::now();
    let room = conference_room::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(who.organization_id.clone()),
        name: Set(name),
        description: Set(input.description.unwrap_or_default()),
        capacity: Set(capacity),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*change)
    .await?;
    change.emit(
        types::CONFERENCE_ROOM_CREATED,
        None,
        room_payload(&change, &room).await?,
        None,
    );
    change.commit().await?;
    Ok(room)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, room = id))]
pub async fn update_room(
    app: &Ctx,
    who: &Principal,
    id: &str,
    input: RoomInput,
) -> AppResult<conference_room::Model> {
    who.require_admin()?;
    let mut change = Change::begin(app, who).await?;
    let before = room_for_read(&*change, who, id).await?;
    let mut active: conference_room::ActiveModel = before.clone().into();
    if let Some(name) = input.name {
        active.name = Set(required_text("name", &name, 200)?);
    }
    if let Some(description) = input.description {
        active.description = Set(description);
    }
    if let Some(capacity) = input.capacity {
        active.capacity = Set(check_capacity(capacity)?);
    }
    active.updated_at = Set(ids::now());
    let after = active.update(&*change).await?;
    let (current, previous) = (
        room_payload(&change, &after).await?,
        room_payload(&change, &before).await?,
    );
    change.emit(
        types::CONFERENCE_ROOM_UPDATED,
        None,
        current,
        Some(previous),
    );
    change.commit().await?;
    Ok(after)
}

#[tracing::instrument(skip_all, fields(org = %who.organization_id, room = id))]
pub async fn delete_room(
    app: &Ctx,
    who: &Principal,
    id: &str,
) -> AppResult<conference_room::Model> {
    who.require_admin()?;
    let mut change = Change::begin(app, who).await?;
    let room = room_for_read(&*change, who, id).await?;
    let payload = room_payload(&change, &room).await?;
    room.clone().delete(&*change).await?;
    change.emit(
        types::CONFERENCE_ROOM_DELETED,
        None,
        payload.clone(),
        Some(payload),
    );
    change.commit().await?;
    Ok(room)
}

/// Books a room for `[starts_at, ends_at)`; `CONFLICT` if that overlaps an
/// existing reservation of the room.
#[tracing::instrument(skip_all, fields(org = %who.organization_id, room = room_id))]
pub async fn reserve(
    app: &Ctx,
    who: &Principal,
    room_id: &str,
    title: &str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> AppResult<reservation::Model> {
    let title = required_text("title", title, 500)?;
    if ends_at <= starts_at {
        return Err(AppError::validation("`endsAt` must be after `startsAt`"));
    }
    let mut change = Change::begin(app, who).await?;
    // Bookings of one room run one at a time: each locks the room's row.
    let room_query = conference_room::Entity::find_by_id(room_id)
        .filter(conference_room::Column::OrganizationId.eq(&who.organization_id))
        .lock_exclusive();
    let room = match ids::is_valid(room_id) {
        true => room_query
            .one(&*change)
            .await?
            .ok_or(AppError::NotFound("conference room"))?,
        false => return Err(AppError::NotFound("conference room")),
    };
    let clash = reservation::Entity::find()
        .filter(reservation::Column::ConferenceRoomId.eq(&room.id))
        .filter(reservation::Column::StartsAt.lt(ends_at))
        .filter(reservation::Column::EndsAt.gt(starts_at))
        .one(&*change)
        .await?;
    if let Some(clash) = clash {
        return Err(AppError::conflict(format!(
            "the room is already reserved from {} to {} ({})",
            clash.starts_at.to_rfc3339(),
            clash.ends_at.to_rfc3339(),
            clash.title
        )));
    }
    let booked = reservation::ActiveModel {
        id: Set(ids::new_id()),
        organization_id: Set(who.organization_id.clone()),
        conference_room_id: Set(room.id.clone()),
        title: Set(title),
        starts_at: Set(starts_at),
        ends_at: Set(ends_at),
        created_by_id: Set(Some(who.user_id.clone())),
        created_at: Set(ids::now()),
    }
    .insert(&*change)
    .await?;
    let payload = reservation_json(&booked, room_payload(&change, &room).await?);
    change.emit(types::RESERVATION_CREATED, None, payload, None);
    change.commit().await?;
    Ok(booked)
}

/// Cancels a reservation: its author, or an admin.
#[tracing::instrument(skip_all, fields(org = %who.organization_id, reservation = id))]
pub async fn cancel_reservation(
    app: &Ctx,
    who: &Principal,
    id: &str,
) -> AppResult<reservation::Model> {
    let mut change = Change::begin(app, who).await?;
    let booked = find_by_id::<reservation::Entity>(
        &*change,
        id,
        "reservation",
        Some((reservation::Column::OrganizationId, &who.organization_id)),
    )
    .await?;
    if booked.created_by_id.as_deref() != Some(who.user_id.as_str()) {
        who.require_admin()?;
    }
    let room = room_for_read(&*change, who, &booked.conference_room_id).await?;
    let payload = reservation_json(&booked, room_payload(&change, &room).await?);
    booked.clone().delete(&*change).await?;
    change.emit(
        types::RESERVATION_DELETED,
        None,
        payload.clone(),
        Some(payload),
    );
    change.commit().await?;
    Ok(booked)
}

/// Reservations of the organization's rooms (or one room) overlapping
/// `[from, to)`, in time order.
pub async fn list_reservations(
    app: &Ctx,
    who: &Principal,
    room_id: Option<&str>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> AppResult<Vec<reservation::Model>> {
    let mut select = reservation::Entity::find()
        .filter(reservation::Column::OrganizationId.eq(&who.organization_id));
    if let Some(room_id) = room_id {
        let room = room_for_read(&app.db, who, room_id).await?;
        select = select.filter(reservation::Column::ConferenceRoomId.eq(room.id));
    }
    if let Some(from) = from {
        select = select.filter(reservation::Column::EndsAt.gt(from));
    }
    if let Some(to) = to {
        select = select.filter(reservation::Column::StartsAt.lt(to));
    }
    Ok(select
        .order_by_asc(reservation::Column::StartsAt)
        .limit(1000)
        .all(&app.db)
        .await?)
}
