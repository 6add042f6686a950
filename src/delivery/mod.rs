//! Outbound delivery: how payloads are signed and which targets may be
//! called.

pub mod queue;
pub mod schedule;
pub mod sender;
pub mod signature;
pub mod target;
