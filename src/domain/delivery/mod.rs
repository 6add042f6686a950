//! Outbound delivery: an attempt at a delivery, batched writes of its
//! lease and outcome, webhook health, the HTTP request, which targets may
//! be called, the queue it comes from as the domain sees it, and the
//! sweeper that finds what the queue lost.

pub mod attempt;
pub mod commit;
pub mod health;
pub mod queue;
mod record;
pub mod sender;
pub mod sweeper;
pub mod target;
