//! sea-orm entities, one module per table. Entities carry no GraphQL or HTTP
//! concerns: the server converts them into its own API types.

pub mod api_token;
pub mod event;
pub mod instance_setting;
pub mod membership;
pub mod organization;
pub mod user;
