//! sea-orm entities, one module per table. Entities carry no GraphQL or HTTP
//! concerns: the server converts them into its own API types.

pub mod api_token;
pub mod checklist;
pub mod checklist_item;
pub mod comment;
pub mod conference_room;
pub mod delivery;
pub mod delivery_attempt;
pub mod event;
pub mod inbound_receipt;
pub mod instance_setting;
pub mod integration;
pub mod integration_point;
pub mod invitation;
pub mod membership;
pub mod message;
pub mod message_read;
pub mod organization;
pub mod page;
pub mod project;
pub mod project_member;
pub mod quick_call;
pub mod reservation;
pub mod todo;
pub mod todo_assignee;
pub mod todo_list;
pub mod todo_tag;
pub mod user;
pub mod webhook;
