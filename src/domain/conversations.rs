//! Conversations made on first use: a direct conversation between users,
//! and an organization's notices from Junction itself.

use std::collections::BTreeSet;

use entity::{project, project_member, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::Query,
};

use super::{
    Ctx, accounts,
    change::Change,
    projects::{DIRECT, ProjectFields, ensure_organization_members, insert_project},
};
use crate::{
    auth::Principal,
    error::{AppError, AppResult},
};

/// The direct conversation between the caller and `user_ids`, created on
/// first use (a messenger conversation is a project of kind `direct`).
#[tracing::instrument(skip_all, fields(org = %who.organization_id))]
pub async fn direct_conversation(
    app: &Ctx,
    who: &Principal,
    user_ids: &[String],
) -> AppResult<project::Model> {
    let mut members: BTreeSet<String> = user_ids.iter().cloned().collect();
    members.insert(who.user_id.clone());
    if members.len() < 2 {
        return Err(AppError::validation(
            "a direct conversation needs at least one other user",
        ));
    }
    ensure_organization_members(&app.db, &who.organization_id, &members).await?;
    if let Some(existing) =
        find_direct(&app.db, &who.organization_id, &who.user_id, &members).await?
    {
        return Ok(existing);
    }
    let org = accounts::organization(app, who).await?;
    let names: Vec<String> = user::Entity::find()
        .filter(user::Column::Id.is_in(members.iter().cloned()))
        .all(&app.db)
        .await?
        .into_iter()
        .map(|u| u.name)
        .collect();
    let mut change = Change::begin(app, who).await?;
    let fields = ProjectFields {
        kind: DIRECT,
        name: names.join(", "),
        description: String::new(),
        is_public: false,
        is_message_thread: false,
    };
    let project = insert_project(&mut change, who, &org, fields, &members).await?;
    change.commit().await?;
    Ok(project)
}

/// The direct conversation of exactly `members`, one of whom is `user_id`.
async fn find_direct(
    conn: &impl ConnectionTrait,
    organization_id: &str,
    user_id: &str,
    members: &BTreeSet<String>,
) -> AppResult<Option<project::Model>> {
    let mine = Query::select()
        .column(project_member::Column::ProjectId)
        .from(project_member::Entity)
        .and_where(project_member::Column::UserId.eq(user_id))
        .to_owned();
    let candidates = project::Entity::find()
        .filter(project::Column::OrganizationId.eq(organization_id))
        .filter(project::Column::Kind.eq(DIRECT))
        .filter(project::Column::Id.in_subquery(mine))
        .all(conn)
        .await?;
    for candidate in candidates {
        let have: BTreeSet<String> = project_member::Entity::find()
            .filter(project_member::Column::ProjectId.eq(&candidate.id))
            .select_only()
            .column(project_member::Column::UserId)
            .into_tuple::<String>()
            .all(conn)
            .await?
            .into_iter()
            .collect();
        if &have == members {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

/// A user's own conversation, where Junction posts notices for them (a
/// direct conversation whose only member is the user), created on first
/// use within `change`.
pub async fn notices_conversation(
    change: &mut Change<'_>,
    organization_id: &str,
    user_id: &str,
) -> AppResult<project::Model> {
    let members = BTreeSet::from([user_id.to_owned()]);
    if let Some(existing) = find_direct(&**change, organization_id, user_id, &members).await? {
        return Ok(existing);
    }
    let org = accounts::organization_by_id(change.ctx(), &**change, organization_id).await?;
    let owner = Principal {
        user_id: user_id.to_owned(),
        organization_id: organization_id.to_owned(),
        role: crate::auth::Role::Member,
        api_token_id: None,
    };
    let fields = ProjectFields {
        kind: DIRECT,
        name: "Junction notices".to_owned(),
        description: "Notices from Junction about your webhooks and integrations".to_owned(),
        is_public: false,
        is_message_thread: false,
    };
    insert_project(change, &owner, &org, fields, &members).await
}
