//! Giving freed heap memory back to the operating system.
//!
//! glibc keeps what a burst freed (thousands of event streams reconnecting at once after a
//! restart, whole-chapter initial syncs) inside its arenas, so the process stays at its
//! peak size although the memory is free, and looks like a leak to an operator. Trimming
//! every few seconds returns it: measured with 5,000 open streams after a full benchmark
//! run, 193 MB resident without, 136 MB with (docs/performance.md, W5).

use crate::state::AppState;
use std::time::Duration;

/// How often freed memory is returned.
pub const RETURN_INTERVAL: Duration = Duration::from_secs(5);

/// Returns freed memory every [`RETURN_INTERVAL`] until shutdown.
pub fn spawn_return(state: &AppState) {
    let shutdown = state.shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RETURN_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            // It walks every arena's free lists: not on an async worker.
            let _ = tokio::task::spawn_blocking(return_freed).await;
        }
    });
}

/// Gives the pages of freed heap memory back to the operating system; true if any were.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn return_freed() -> bool {
    // SAFETY: malloc_trim has no preconditions; it only takes the allocator's own locks.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Other allocators (musl, macOS) return memory on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_freed() -> bool {
    false
}
