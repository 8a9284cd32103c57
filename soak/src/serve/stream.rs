//! Per-request streams that misbehave: each request draws a plan from the
//! seeded schedule (end, run on, stall, fail, panic, send empty or 5 MB frames).

use std::io;
use std::sync::{Arc, PoisonError};

use bytes::Bytes;
use futures_util::Stream;
use mjpeg_axum::Frame;

use super::Shared;
use super::counts::FaultCounts;
use super::producer::{BIG_FRAME, FRAME_INTERVAL};
use crate::payload;
use crate::rng::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    /// Ends after `at` frames.
    Finite,
    /// Runs until the viewer leaves.
    Endless,
    /// Stalls for 1-4 s at frame `at`, then goes on.
    Stall,
    /// Yields an error at frame `at`.
    Error,
    /// Panics at frame `at`.
    Panic,
    /// Every third frame is empty.
    Empty,
    /// Frame `at` is 5 MB.
    Big,
}

struct State {
    shared: Arc<Shared>,
    plan: Plan,
    rng: Rng,
    n: u64,
    at: u64,
}

/// The frames of one request.
pub(super) fn frames(
    shared: &Arc<Shared>,
) -> impl Stream<Item = Result<Frame, io::Error>> + Send + 'static {
    let mut rng = Rng::new(
        shared
            .rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next_u64(),
        2,
    );
    let plan = match rng.range(0, 20) {
        0..=5 => Plan::Finite,
        6..=7 => Plan::Endless,
        8..=10 => Plan::Stall,
        11..=13 => Plan::Error,
        14..=15 => Plan::Panic,
        16..=17 => Plan::Empty,
        _ => Plan::Big,
    };
    let at = rng.range(1, 100);
    let state = State {
        shared: Arc::clone(shared),
        plan,
        rng,
        n: 0,
        at,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        if st.n > 0 {
            tokio::time::sleep(FRAME_INTERVAL).await;
        }
        st.n += 1;
        let faults = &st.shared.faults;
        let mut len = st.rng.range(1_000, 20_000) as usize;
        if st.n == st.at {
            match st.plan {
                Plan::Finite => return None,
                Plan::Stall => {
                    FaultCounts::bump(&faults.stream_stalls);
                    let ms = st.rng.range(1000, 4000);
                    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                }
                Plan::Error => {
                    FaultCounts::bump(&faults.stream_errors);
                    let err = io::Error::other("soak: injected producer error");
                    return Some((Err(err), st));
                }
                Plan::Panic => {
                    FaultCounts::bump(&faults.stream_panics);
                    panic!("soak: injected producer panic");
                }
                Plan::Big => len = BIG_FRAME,
                Plan::Endless | Plan::Empty => {}
            }
        }
        let frame = if st.plan == Plan::Empty && st.n % 3 == 0 {
            FaultCounts::bump(&faults.empty_frames);
            Frame::jpeg(Bytes::new())
        } else {
            Frame::jpeg(payload::build(0, st.n, len))
        };
        Some((Ok(frame), st))
    })
}
