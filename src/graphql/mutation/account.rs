use async_graphql::{Context, ID, InputObject, Object};

use crate::domain::{
    accounts::{self, Registration},
    api_tokens, invitations, members,
};
use crate::graphql::{
    ContextExt,
    types::{ApiToken, AuthPayload, CreatedApiToken, Invitation, Member, Role},
};

#[derive(InputObject)]
pub struct RegisterInput {
    pub email: String,
    pub name: String,
    /// At least 8 characters.
    pub password: String,
    /// The organization created for the new user, who becomes its owner.
    pub organization_name: String,
}

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// The organization to act in; the user's first one when omitted.
    pub organization_id: Option<ID>,
}

#[derive(InputObject)]
pub struct AddMemberInput {
    /// Whoever holds (or later registers) an account with this e-mail may
    /// accept.
    pub email: String,
    pub role: Role,
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates a user and their organization; returns a session token.
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> async_graphql::Result<AuthPayload> {
        let registration = Registration {
            email: input.email,
            name: input.name,
            password: input.password,
            organization_name: input.organization_name,
        };
        Ok(accounts::register(ctx.app(), registration).await?.into())
    }

    /// Opens a session with e-mail and password.
    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        let org = input.organization_id.as_ref().map(|id| id.as_str());
        Ok(
            accounts::login(ctx.app(), &input.email, input.password, org)
                .await?
                .into(),
        )
    }

    /// Creates an API token for the caller. The token is shown only here.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> async_graphql::Result<CreatedApiToken> {
        let created = api_tokens::create_api_token(ctx.app(), ctx.principal()?, &name).await?;
        Ok(created.into())
    }

    /// Revokes a token: the caller's own, or any token for an admin.
    async fn revoke_api_token(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ApiToken> {
        Ok(
            api_tokens::revoke_api_token(ctx.app(), ctx.principal()?, &id)
                .await?
                .into(),
        )
    }
}

#[derive(Default)]
pub struct MemberMutation;

#[Object]
impl MemberMutation {
    /// Invites a person to the organization by e-mail (admins; owners to
    /// invite an owner). Pass the answer's `token` on to them: they join
    /// once they accept with it while signed in (`acceptInvitation`). The
    /// answer is the same whether or not the e-mail has an account.
    async fn add_member(
        &self,
        ctx: &Context<'_>,
        input: AddMemberInput,
    ) -> async_graphql::Result<Invitation> {
        let (app, who) = (ctx.app(), ctx.principal()?);
        Ok(
            invitations::invite(app, who, &input.email, input.role.into())
                .await?
                .try_into()?,
        )
    }

    /// Withdraws a pending invitation (admins; owners for an owner's).
    async fn revoke_invitation(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Invitation> {
        Ok(invitations::revoke(ctx.app(), ctx.principal()?, &id)
            .await?
            .try_into()?)
    }

    /// Accepts a pending invitation to the caller's e-mail with the token
    /// the inviting admin passed on: the caller joins its organization and
    /// gets a session there.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        token: String,
    ) -> async_graphql::Result<AuthPayload> {
        Ok(
            invitations::accept(ctx.app(), ctx.principal()?, &id, &token)
                .await?
                .into(),
        )
    }

    /// Changes a member's role (admins; owners for anything touching owner).
    async fn update_member_role(
        &self,
        ctx: &Context<'_>,
        id: ID,
        role: Role,
    ) -> async_graphql::Result<Member> {
        Ok(
            members::update_member_role(ctx.app(), ctx.principal()?, &id, role.into())
                .await?
                .try_into()?,
        )
    }

    /// Removes a member (admins), or the caller themselves. The last owner stays.
    async fn remove_member(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Member> {
        Ok(members::remove_member(ctx.app(), ctx.principal()?, &id)
            .await?
            .try_into()?)
    }
}
