use async_graphql::{Context, ID, InputObject, Object};

use crate::{
    domain::channels::{self, ChannelInput},
    graphql::{ContextExt, types::IntegrationPoint},
};

#[derive(InputObject, Default)]
pub struct IntegrationPointOptsInput {
    pub title: Option<String>,
    pub comment: Option<String>,
    pub allow_files_api: Option<bool>,
    pub issync: Option<bool>,
}

/// The writable fields; `tokenLocal` and `id` are the server's.
#[derive(InputObject)]
pub struct IntegrationPointInput {
    /// Required on creation.
    pub project_id: Option<ID>,
    pub code: Option<String>,
    #[graphql(name = "type")]
    pub kind: Option<String>,
    pub token_remote: Option<String>,
    pub token_remote2: Option<String>,
    pub url: Option<String>,
    pub recv_svcscriptcode: Option<String>,
    pub recv_svcscriptcode_ws: Option<String>,
    pub send_svcscriptcode: Option<String>,
    pub send_svcscriptcode_ws: Option<String>,
    pub opts: Option<IntegrationPointOptsInput>,
}

impl From<IntegrationPointInput> for ChannelInput {
    fn from(i: IntegrationPointInput) -> Self {
        let opts = i.opts.unwrap_or_default();
        ChannelInput {
            project_id: i.project_id.map(|p| p.0),
            code: i.code,
            kind: i.kind,
            token_remote: i.token_remote,
            token_remote2: i.token_remote2,
            url: i.url,
            recv_svcscriptcode: i.recv_svcscriptcode,
            recv_svcscriptcode_ws: i.recv_svcscriptcode_ws,
            send_svcscriptcode: i.send_svcscriptcode,
            send_svcscriptcode_ws: i.send_svcscriptcode_ws,
            opts_title: opts.title,
            opts_comment: opts.comment,
            opts_allow_files_api: opts.allow_files_api,
            opts_issync: opts.issync,
            ..ChannelInput::default()
        }
    }
}

#[derive(Default)]
pub struct ChannelMutation;

#[Object]
impl ChannelMutation {
    /// Admins.
    async fn create_integration_point(
        &self,
        ctx: &Context<'_>,
        input: IntegrationPointInput,
    ) -> async_graphql::Result<IntegrationPoint> {
        Ok(IntegrationPoint(
            channels::create_channel(ctx.app(), ctx.principal()?, input.into()).await?,
        ))
    }

    /// Admins.
    async fn update_integration_point(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: IntegrationPointInput,
    ) -> async_graphql::Result<IntegrationPoint> {
        Ok(IntegrationPoint(
            channels::update_channel(ctx.app(), ctx.principal()?, &id, input.into()).await?,
        ))
    }

    /// Admins.
    async fn delete_integration_point(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<IntegrationPoint> {
        Ok(IntegrationPoint(
            channels::delete_channel(ctx.app(), ctx.principal()?, &id).await?,
        ))
    }
}
