//! Per-request DataLoaders: nested fields of a page of objects cost one
//! query per field, not one per object. Created for each request (and each
//! subscription connection) so nothing is cached across callers.

use std::{collections::HashMap, future::Future, sync::Arc, time::Duration};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{checklist, checklist_item, comment, message_read, todo_list, user};

use crate::{db::Db, domain::batch, error::AppError};

/// One loader per kind of nested look-up; cheap to clone (batched requests
/// share one set).
#[derive(Clone)]
pub struct Loaders(Arc<LoaderSet>);

impl std::ops::Deref for Loaders {
    type Target = LoaderSet;
    fn deref(&self) -> &LoaderSet {
        &self.0
    }
}

pub struct LoaderSet {
    pub users: DataLoader<Batch<User>>,
    pub todo_lists: DataLoader<Batch<TodoList>>,
    pub assignees: DataLoader<Batch<Assignees>>,
    pub project_members: DataLoader<Batch<ProjectMembers>>,
    pub readers: DataLoader<Batch<Readers>>,
    pub tags: DataLoader<Batch<Tags>>,
    pub comments: DataLoader<Batch<Comments>>,
    pub checklists: DataLoader<Batch<Checklists>>,
    pub checklist_items: DataLoader<Batch<ChecklistItems>>,
}

impl Loaders {
    pub fn new(db: &Db) -> Self {
        fn loader<K: Kind>(db: &Db) -> DataLoader<Batch<K>> {
            DataLoader::new(
                Batch {
                    db: db.clone(),
                    kind: std::marker::PhantomData,
                },
                tokio::spawn,
            )
            // A list's items are resolved side by side, so their loads
            // arrive together and the batch runs once the resolver yields;
            // the default 1 ms wait added a millisecond to every nested
            // level of every request, and (without async-graphql's tokio
            // timer) a timer thread's wake-up.
            .delay(Duration::ZERO)
        }
        Self(Arc::new(LoaderSet {
            users: loader(db),
            todo_lists: loader(db),
            assignees: loader(db),
            project_members: loader(db),
            readers: loader(db),
            tags: loader(db),
            comments: loader(db),
            checklists: loader(db),
            checklist_items: loader(db),
        }))
    }
}

/// A loader that runs one batch function of the domain.
pub struct Batch<K> {
    db: Db,
    kind: std::marker::PhantomData<K>,
}

/// What a loader loads: its value type and the domain's batch function.
pub trait Kind: Send + Sync + 'static {
    type Value: Clone + Send + Sync + 'static;
    fn fetch(
        db: &Db,
        keys: &[String],
    ) -> impl Future<Output = Result<HashMap<String, Self::Value>, AppError>> + Send;
}

impl<K: Kind> Loader<String> for Batch<K> {
    type Value = K::Value;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        K::fetch(&self.db, keys).await.map_err(Arc::new)
    }
}

macro_rules! kind {
    ($name:ident, $value:ty, $fetch:path) => {
        pub struct $name;
        impl Kind for $name {
            type Value = $value;
            fn fetch(
                db: &Db,
                keys: &[String],
            ) -> impl Future<Output = Result<HashMap<String, $value>, AppError>> + Send {
                $fetch(db, keys)
            }
        }
    };
}

kind!(User, user::Model, batch::users_by_ids);
kind!(TodoList, todo_list::Model, batch::todo_lists_by_ids);
kind!(Assignees, Vec<user::Model>, batch::assignees_by_todo);
kind!(ProjectMembers, Vec<user::Model>, batch::members_by_project);
kind!(Readers, Vec<message_read::Model>, batch::readers_by_message);
kind!(Tags, Vec<String>, batch::tags_by_todo);
kind!(Comments, Vec<comment::Model>, batch::comments_by_todo);
kind!(Checklists, Vec<checklist::Model>, batch::checklists_by_todo);
kind!(
    ChecklistItems,
    Vec<checklist_item::Model>,
    batch::items_by_checklist
);

/// A loader failure as a GraphQL error with the domain's code.
pub fn loader_error(error: Arc<AppError>) -> async_graphql::Error {
    match Arc::try_unwrap(error) {
        Ok(error) => error.into(),
        Err(shared) => AppError::Internal(anyhow::anyhow!("{shared}")).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::Loaders;

    #[tokio::test]
    async fn loads_issued_together_share_one_query() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = crate::db::Db::open(&crate::cli::settings(&["--database-url", &url]))
            .await
            .unwrap();

        let loaders = Loaders::new(&db);
        let ids: Vec<String> = (0..20).map(|i| format!("user-{i}")).collect();
        let found =
            futures_util::future::join_all(ids.iter().map(|id| loaders.users.load_one(id.clone())))
                .await;

        assert!(found.iter().all(|user| matches!(user, Ok(None))));
        assert_eq!(db.statements_run(), 1);
    }
}
