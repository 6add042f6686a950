mod account;
mod channels;
mod integrations;
mod webhooks;
mod workspace;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Query(
    account::AccountQuery,
    account::EventQuery,
    workspace::WorkspaceQuery,
    webhooks::WebhookQuery,
    integrations::IntegrationQuery,
    channels::ChannelQuery,
);
