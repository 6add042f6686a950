use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use crate::{
    domain::{
        conference::{self, RoomInput},
        quick_calls,
    },
    graphql::{
        ContextExt,
        types::{ConferenceRoom, QuickCall, Reservation},
    },
};

#[derive(InputObject)]
pub struct ConferenceRoomInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub capacity: Option<i32>,
}

impl From<ConferenceRoomInput> for RoomInput {
    fn from(i: ConferenceRoomInput) -> Self {
        RoomInput {
            name: i.name,
            description: i.description,
            capacity: i.capacity,
        }
    }
}

#[derive(Default)]
pub struct ConferenceMutation;

#[Object]
impl ConferenceMutation {
    /// Admins.
    async fn create_conference_room(
        &self,
        ctx: &Context<'_>,
        input: ConferenceRoomInput,
    ) -> async_graphql::Result<ConferenceRoom> {
        Ok(ConferenceRoom(
            conference::create_room(ctx.app(), ctx.principal()?, input.into()).await?,
        ))
    }

    /// Admins.
    async fn update_conference_room(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ConferenceRoomInput,
    ) -> async_graphql::Result<ConferenceRoom> {
        Ok(ConferenceRoom(
            conference::update_room(ctx.app(), ctx.principal()?, &id, input.into()).await?,
        ))
    }

    /// Admins.
    async fn delete_conference_room(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ConferenceRoom> {
        Ok(ConferenceRoom(
            conference::delete_room(ctx.app(), ctx.principal()?, &id).await?,
        ))
    }

    /// Books a room; `CONFLICT` when the time overlaps another reservation.
    async fn reserve_conference_room(
        &self,
        ctx: &Context<'_>,
        conference_room_id: ID,
        title: String,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    ) -> async_graphql::Result<Reservation> {
        let booked = conference::reserve(
            ctx.app(),
            ctx.principal()?,
            &conference_room_id,
            &title,
            starts_at,
            ends_at,
        )
        .await?;
        Ok(Reservation(booked))
    }

    /// Its author, or an admin.
    async fn cancel_reservation(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Reservation> {
        Ok(Reservation(
            conference::cancel_reservation(ctx.app(), ctx.principal()?, &id).await?,
        ))
    }

    /// A meeting URL valid until `expiresAt`, optionally with a password.
    async fn create_quick_call(
        &self,
        ctx: &Context<'_>,
        expires_at: DateTime<Utc>,
        password: Option<String>,
    ) -> async_graphql::Result<QuickCall> {
        let app = ctx.app();
        let call =
            quick_calls::create_quick_call(app, ctx.principal()?, expires_at, password).await?;
        Ok(quick_call(app, call))
    }

    /// Checks a quick call's expiry and password; needs no account.
    async fn join_quick_call(
        &self,
        ctx: &Context<'_>,
        token: String,
        password: Option<String>,
    ) -> async_graphql::Result<QuickCall> {
        let app = ctx.app();
        Ok(quick_call(
            app,
            quick_calls::join_quick_call(app, &token, password).await?,
        ))
    }
}

fn quick_call(app: &crate::state::AppState, call: entity::quick_call::Model) -> QuickCall {
    QuickCall {
        id: ID(call.id.clone()),
        url: quick_calls::call_url(app, &call),
        has_password: call.password_hash.is_some(),
        expires_at: call.expires_at,
        created_at: call.created_at,
    }
}
