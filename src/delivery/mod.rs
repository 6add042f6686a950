//! Outbound delivery: how payloads are signed and which targets may be
//! called.

pub mod attempt;
pub mod commit;
pub mod health;
pub mod queue;
pub mod schedule;
pub mod sender;
pub mod signature;
pub mod target;
pub mod worker;
