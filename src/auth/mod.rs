//! Who is calling: credentials (passwords, session JWTs, API tokens) and the
//! [`Principal`] every authorized operation is scoped by.

pub mod api_token;
mod cache;
pub mod jwt;
pub mod password;
mod principal;
mod role;
pub mod throttle;

pub use cache::PrincipalCache;
pub use principal::{Auth, Principal};
pub use role::Role;
pub use throttle::Throttle;
