//! Workspace events: written in the transaction of the change that caused
//! them ([`Change`]), then published to live subscribers once that
//! transaction commits ([`EventBus`]).

pub mod bus;
mod change;
pub mod types;

pub use bus::{Bus, DeliveryBus, EventBus, listen_forever};
pub use change::Change;
