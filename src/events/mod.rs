//! Workspace events: written in the transaction of the change that caused
//! them ([`Change`]), then published to live subscribers once that
//! transaction commits ([`EventBus`]).

mod bus;
mod change;
pub mod types;

pub use bus::EventBus;
pub use change::Change;
