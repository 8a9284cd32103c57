//! [`OverflowPolicy`] and the per-viewer [`QueueLimits`] it belongs to.

use std::time::Duration;

/// What happens when a viewer's queue in the layer reaches its high-water mark.
///
/// The queue holds whole frames only: a part is never torn, and with a client
/// that stops reading the layer holds at most the high-water mark plus one frame
/// for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverflowPolicy {
    /// Drop the oldest queued frames to make room: the viewer stays live.
    #[default]
    KeepLatest,
    /// Drop the incoming frame while the queue is full (Node-RED's "ignore
    /// messages when overloaded").
    DropNewest,
    /// Stop taking frames from a per-request stream until the queue drains:
    /// every frame is delivered, at the pace of the viewer.
    ///
    /// # Note
    /// A [`FrameHub`](crate::FrameHub) never waits for a viewer, so for hub
    /// viewers this acts as [`DropNewest`](Self::DropNewest).
    Wait,
    /// End the viewer's response.
    ///
    /// # Note
    /// The body can only end itself when the connection polls it, and a
    /// server stops polling a body whose socket is full. To close a connection whose
    /// client stopped reading, serve with a write-stall timeout (the adapters'
    /// `serve` helpers); the reason reported is then
    /// [`DisconnectReason::Overflow`](crate::DisconnectReason::Overflow) too.
    Disconnect,
}

/// Limits for one viewer's queue, derived from the layer's configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueueLimits {
    /// Payload bytes a queue may hold before its policy applies.
    pub(crate) high_water_mark: usize,
    pub(crate) policy: OverflowPolicy,
    /// The shortest time between two accepted frames (the fps limit).
    pub(crate) min_interval: Option<Duration>,
    /// Charged bytes all viewers of the layer may queue together.
    pub(crate) budget: Option<usize>,
}
