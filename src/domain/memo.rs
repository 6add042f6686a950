//! A process-wide memory of values read from the database, keyed by id:
//! bounded, and started over when full (the ids are UUIDs, unique across
//! databases, so one process serving several is safe). What a value may be
//! kept for, and when it is stale, is for its user to say.

use std::{collections::HashMap, sync::Mutex};

/// Entries kept at most; past it the memory starts over.
const CAPACITY: usize = 10_000;

pub struct Memo<V> {
    entries: Mutex<HashMap<String, V>>,
}

// By hand: the derive would ask `V: Default`.
impl<V> Default for Memo<V> {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
        }
    }
}

impl<V: Clone> Memo<V> {
    pub fn get(&self, key: &str) -> Option<V> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    pub fn put(&self, key: String, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, value);
    }
}
