use async_graphql::Context;

use super::loaders::Loaders;

use crate::{
    auth::{Auth, Principal},
    error::{AppError, AppResult},
    state::AppState,
};

/// What resolvers take from the request context.
pub trait ContextExt {
    fn app(&self) -> &AppState;
    /// The authenticated caller, or `UNAUTHENTICATED` with the reason.
    fn principal(&self) -> AppResult<&Principal>;
    /// The request's DataLoaders.
    fn loaders(&self) -> &Loaders;
}

impl ContextExt for Context<'_> {
    fn app(&self) -> &AppState {
        self.data_unchecked::<AppState>()
    }

    fn principal(&self) -> AppResult<&Principal> {
        match self.data_opt::<Auth>() {
            Some(auth) => auth.principal(),
            None => Err(AppError::unauthenticated("authentication required")),
        }
    }

    fn loaders(&self) -> &Loaders {
        self.data_unchecked::<Loaders>()
    }
}
