//! What every request handler, resolver and job can reach: the domain's
//! context, and what only the edges need.

use std::ops::Deref;

use crate::domain::Ctx;

#[derive(Clone)]
pub struct AppState {
    pub ctx: Ctx,
    /// For `/readyz`.
    pub redis: Option<redis::aio::ConnectionManager>,
}

/// Handlers reach the domain's context through the state, and hand it to
/// domain functions as it is.
impl Deref for AppState {
    type Target = Ctx;

    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}
