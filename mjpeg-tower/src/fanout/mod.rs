//! Stage 2, fan-out: from one produced frame to many viewers' queues.
//!
//! Owns the [`SharedFrame`](encoded::SharedFrame) with its per-configuration
//! encodings, the per-viewer [`ViewerQueue`](queue::ViewerQueue) and its
//! [`OverflowPolicy`](policy::OverflowPolicy), the [`FrameHub`](hub::FrameHub),
//! and the [`Feed`](pump::Feed) that drives a per-request stream into a queue.
//!
//! Knows no tower and no HTTP responses. Imports `wire` and `lifecycle` only.

pub(crate) mod encoded;
pub(crate) mod hub;
pub(crate) mod pace;
pub(crate) mod policy;
pub(crate) mod pump;
pub(crate) mod queue;
