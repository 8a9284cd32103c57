//! Shared by the adapter's integration tests.

use std::time::Duration;

/// Waits until `cond` holds, polling every 5 ms, for at most 10 s.
pub(crate) async fn wait_until(mut cond: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("condition not met within 10 s");
}
