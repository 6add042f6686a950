mod account;
mod channels;
mod conference;
mod integrations;
mod projects;
mod todos;
mod webhooks;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Mutation(
    account::AccountMutation,
    account::MemberMutation,
    projects::ProjectMutation,
    todos::TodoMutation,
    conference::ConferenceMutation,
    webhooks::WebhookMutation,
    integrations::IntegrationMutation,
    channels::ChannelMutation,
);
