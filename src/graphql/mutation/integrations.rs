use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};

use crate::{
    domain::integrations::{self, IntegrationPatch, NewIntegration},
    graphql::{
        ContextExt,
        types::{Integration, IntegrationAction},
    },
};

#[derive(InputObject)]
pub struct CreateIntegrationInput {
    pub project_id: ID,
    /// One of the 28 services, any case (`GitHub`, `jira`, `incoming`, …).
    pub service: String,
    pub action: IntegrationAction,
    pub description: Option<String>,
    /// Checks the service's signatures when set.
    pub secret: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateIntegrationInput {
    pub action: Option<IntegrationAction>,
    pub description: Option<String>,
    /// A new secret; `null` stops verification.
    pub secret: MaybeUndefined<String>,
}

#[derive(Default)]
pub struct IntegrationMutation;

#[Object]
impl IntegrationMutation {
    /// Admins.
    async fn create_integration(
        &self,
        ctx: &Context<'_>,
        input: CreateIntegrationInput,
    ) -> async_graphql::Result<Integration> {
        let new = NewIntegration {
            service: input.service,
            action: input.action.as_str().to_owned(),
            description: input.description,
            secret: input.secret,
        };
        Ok(Integration(
            integrations::create_integration(ctx.app(), ctx.principal()?, &input.project_id, new)
                .await?,
        ))
    }

    /// Admins.
    async fn update_integration(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateIntegrationInput,
    ) -> async_graphql::Result<Integration> {
        let patch = IntegrationPatch {
            action: input.action.map(|a| a.as_str().to_owned()),
            description: input.description,
            secret: match input.secret {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(s) => Some(Some(s)),
            },
        };
        Ok(Integration(
            integrations::update_integration(ctx.app(), ctx.principal()?, &id, patch).await?,
        ))
    }

    /// Admins.
    async fn delete_integration(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Integration> {
        Ok(Integration(
            integrations::delete_integration(ctx.app(), ctx.principal()?, None, &id).await?,
        ))
    }
}
