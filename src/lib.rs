//! Junction: a self-hosted integration hub for team-collaboration workspaces.

pub mod allocator;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod inbound;
pub mod jobs;
pub mod metrics;
pub mod secrets;
pub mod signature;
pub mod startup;
pub mod state;
pub mod telemetry;
