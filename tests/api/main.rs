//! One integration-test binary: every test starts the real server on port 0
//! with its own database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set).

mod helpers;

mod accounts;
mod api_tokens;
mod cam;
mod database_errors;
mod deliveries;
mod delivery_sender;
mod faults;
mod first_hour;
mod graphiql_browser;
mod handoff;
mod health;
mod inbound;
mod integration_points;
mod isolation;
mod limits;
mod members;
mod openapi;
mod outages;
mod own_services;
mod processes;
mod queue_backlog;
mod receiver;
mod schema;
mod secrets_at_rest;
mod secrets_in_logs;
mod services;
mod subscriptions;
mod webhooks;
mod workspace_access;
mod workspace_events;
mod workspace_live;
mod ws;
