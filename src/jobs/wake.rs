//! Waking idle workers: apalis-redis polls, so every push also wakes the
//! workers at once, in this process directly and in others through a
//! Redis pub/sub message (see `jobs::wake_channel`).

use std::{
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use apalis::prelude::{PollSnapshot, PollStrategy};
use futures_util::task::AtomicWaker;

/// How often idle workers look at the queue even without a wake-up: this
/// bounds how late a scheduled retry can start and how long a wake-up lost
/// between processes can cost.
pub const IDLE_POLL: Duration = Duration::from_millis(500);

/// A wake-up for idle workers: set by a push, consumed by the worker's
/// poll strategy.
#[derive(Clone, Default)]
pub struct Wake(Arc<WakeInner>);

#[derive(Default)]
struct WakeInner {
    waker: AtomicWaker,
    set: AtomicBool,
}

impl Wake {
    pub fn signal(&self) {
        self.0.set.store(true, Ordering::Release);
        self.0.waker.wake();
    }

    fn poll_signalled(&self, cx: &mut Context<'_>) -> bool {
        if self.0.set.swap(false, Ordering::AcqRel) {
            return true;
        }
        self.0.waker.register(cx.waker());
        self.0.set.swap(false, Ordering::AcqRel)
    }
}

/// apalis poll strategy: poll when woken, and at least every [`IDLE_POLL`].
/// The timer is polled again after each tick so that it re-arms with this
/// task's waker (apalis' own interval strategy stops firing otherwise).
pub struct WakeOrTick {
    wake: Wake,
    tick: tokio::time::Interval,
}

impl WakeOrTick {
    pub fn new(wake: Wake) -> Self {
        let mut tick = tokio::time::interval(IDLE_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self { wake, tick }
    }
}

impl PollStrategy for WakeOrTick {
    fn poll_drive(&mut self, cx: &mut Context<'_>, _: &PollSnapshot) -> Poll<Option<()>> {
        let mut ready = self.wake.poll_signalled(cx);
        while Pin::new(&mut self.tick).poll_tick(cx).is_ready() {
            ready = true;
        }
        if ready {
            Poll::Ready(Some(()))
        } else {
            Poll::Pending
        }
    }
}
