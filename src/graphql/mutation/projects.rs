use async_graphql::{Context, ID, InputObject, Object};

use crate::{
    domain::{
        conversations,
        messages::{self, NewMessage},
        pages::{self, PagePatch},
        projects::{self, NewProject, ProjectPatch},
    },
    graphql::{
        ContextExt,
        types::{Message, Page, Project, ReadReceipt},
    },
};

#[derive(InputObject)]
pub struct CreateProjectInput {
    pub name: String,
    pub description: Option<String>,
    #[graphql(default)]
    pub is_public: bool,
    #[graphql(default)]
    pub is_message_thread: bool,
    /// Members besides the creator, who joins and administers the project.
    #[graphql(default)]
    pub member_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct UpdateProjectInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub archived: Option<bool>,
    pub is_public: Option<bool>,
    pub is_message_thread: Option<bool>,
    pub admin_user_id: Option<ID>,
}

#[derive(InputObject)]
pub struct PostMessageInput {
    pub text: String,
    #[graphql(default)]
    pub mentions: Vec<ID>,
    /// Collect read receipts.
    #[graphql(default)]
    pub sealed: bool,
}

#[derive(InputObject)]
pub struct UpdatePageInput {
    pub title: Option<String>,
    pub body: Option<String>,
}

fn ids(ids: Vec<ID>) -> Vec<String> {
    ids.into_iter().map(|id| id.0).collect()
}

#[derive(Default)]
pub struct ProjectMutation;

#[Object]
impl ProjectMutation {
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        input: CreateProjectInput,
    ) -> async_graphql::Result<Project> {
        let input = NewProject {
            name: input.name,
            description: input.description,
            is_public: input.is_public,
            is_message_thread: input.is_message_thread,
            member_ids: ids(input.member_ids),
        };
        Ok(Project(
            projects::create_project(ctx.app(), ctx.principal()?, input).await?,
        ))
    }

    /// Project admin or organization admin.
    async fn update_project(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateProjectInput,
    ) -> async_graphql::Result<Project> {
        let patch = ProjectPatch {
            name: input.name,
            description: input.description,
            archived: input.archived,
            is_public: input.is_public,
            is_message_thread: input.is_message_thread,
            admin_user_id: input.admin_user_id.map(|i| i.0),
        };
        Ok(Project(
            projects::update_project(ctx.app(), ctx.principal()?, &id, patch).await?,
        ))
    }

    /// Deletes a project and everything in it (project admin or organization admin).
    async fn delete_project(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Project> {
        Ok(Project(
            projects::delete_project(ctx.app(), ctx.principal()?, &id).await?,
        ))
    }

    async fn add_project_member(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        user_id: ID,
    ) -> async_graphql::Result<Project> {
        Ok(Project(
            projects::add_project_member(ctx.app(), ctx.principal()?, &project_id, &user_id)
                .await?,
        ))
    }

    async fn remove_project_member(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        user_id: ID,
    ) -> async_graphql::Result<Project> {
        Ok(Project(
            projects::remove_project_member(ctx.app(), ctx.principal()?, &project_id, &user_id)
                .await?,
        ))
    }

    /// The direct (messenger) conversation with these users, created on first use.
    async fn open_direct_conversation(
        &self,
        ctx: &Context<'_>,
        user_ids: Vec<ID>,
    ) -> async_graphql::Result<Project> {
        Ok(Project(
            conversations::direct_conversation(ctx.app(), ctx.principal()?, &ids(user_ids)).await?,
        ))
    }

    async fn post_message(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        input: PostMessageInput,
    ) -> async_graphql::Result<Message> {
        let input = NewMessage {
            text: input.text,
            mentions: ids(input.mentions),
            sealed: input.sealed,
        };
        Ok(Message(
            messages::post_message(ctx.app(), ctx.principal()?, &project_id, input).await?,
        ))
    }

    /// Leaves a read receipt on a sealed message.
    async fn mark_message_read(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ReadReceipt> {
        let read = messages::mark_read(ctx.app(), ctx.principal()?, &id).await?;
        Ok(ReadReceipt {
            user_id: ID(read.user_id),
            read_at: read.read_at,
        })
    }

    async fn create_page(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        title: String,
        #[graphql(default)] body: String,
    ) -> async_graphql::Result<Page> {
        Ok(Page(
            pages::create_page(ctx.app(), ctx.principal()?, &project_id, &title, &body).await?,
        ))
    }

    async fn update_page(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdatePageInput,
    ) -> async_graphql::Result<Page> {
        let patch = PagePatch {
            title: input.title,
            body: input.body,
        };
        Ok(Page(
            pages::update_page(ctx.app(), ctx.principal()?, &id, patch).await?,
        ))
    }

    async fn delete_page(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Page> {
        Ok(Page(
            pages::delete_page(ctx.app(), ctx.principal()?, &id).await?,
        ))
    }
}
