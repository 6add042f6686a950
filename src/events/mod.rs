//! Workspace events as subscribers see them: their types, and the buses
//! that publish them (and delivery state changes) once the change that
//! made them has committed.

pub mod bus;
pub mod types;

pub use bus::{Bus, DeliveryBus, EventBus, listen_forever};
