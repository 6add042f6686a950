//! What only SQLite needs: its allocator, its one writer with group
//! commit, and background checkpoints.

mod allocator;
mod checkpoint;
mod group;
#[cfg(test)]
mod tests;
mod writer;

pub(crate) use allocator::use_mimalloc;
pub(crate) use checkpoint::checkpoint_forever;
pub(crate) use group::{Left, Member};
pub(crate) use writer::SqliteWriter;
#[cfg(test)]
use writer::Waiting;
