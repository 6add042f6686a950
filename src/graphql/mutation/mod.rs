mod account;
mod conference;
mod projects;
mod todos;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Mutation(
    account::AccountMutation,
    account::MemberMutation,
    projects::ProjectMutation,
    todos::TodoMutation,
    conference::ConferenceMutation,
);
