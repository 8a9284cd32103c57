//! What the registry reports: each stream's [`StreamInfo`], and the
//! [`SourceEvent`]s of on-demand sources.

use std::fmt::Write as _;
use std::time::Duration;

use super::name::StreamName;

/// Where a stream's source stands.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceStatus {
    /// Frames come from elsewhere: the stream was added with a hub, not a source.
    Static,
    /// An on-demand source that is not running: nobody watches.
    Idle,
    /// The source was started and has not published a frame yet.
    Starting,
    /// The source is publishing.
    Running,
    /// The source failed or ended; it is retried while someone wants the stream.
    Failed {
        /// Its error.
        error: String,
        /// When the next attempt starts.
        retry_in: Duration,
    },
}

impl SourceStatus {
    /// `static`, `idle`, `starting`, `running` or `failed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Static => "static",
            Self::Idle => "idle",
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Failed { .. } => "failed",
        }
    }
}

/// One stream of a [`Streams`](super::Streams) registry, as `GET /streams` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamInfo {
    /// Its name.
    pub name: StreamName,
    /// Viewers streaming it now.
    pub viewers: usize,
    /// Frames published into its hub.
    pub published: u64,
    /// Its source's state.
    pub status: SourceStatus,
    /// Times its source was started.
    pub starts: u64,
    /// Times its source failed or ended by itself.
    pub failures: u64,
}

/// Something an on-demand source did; see [`Streams::on_event`](super::Streams::on_event).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceEvent {
    /// The source was started (someone wants the stream).
    Started {
        /// The stream.
        name: StreamName,
    },
    /// The source was stopped: nobody watched for the linger period, or the
    /// stream was removed.
    Stopped {
        /// The stream.
        name: StreamName,
    },
    /// The source failed or ended by itself; it is retried after `retry_in`
    /// if someone still wants the stream.
    Failed {
        /// The stream.
        name: StreamName,
        /// Its error (`"ended"` when it returned `Ok`).
        error: String,
        /// The delay before the next attempt.
        retry_in: Duration,
    },
}

/// `infos` as the JSON array `GET /streams` answers.
pub(crate) fn to_json(infos: &[StreamInfo]) -> String {
    let mut out = String::from("[");
    for (i, info) in infos.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Names need no escaping (see `StreamName`).
        let _ = write!(
            out,
            r#"{{"name":"{}","viewers":{},"published":{},"status":"{}","starts":{},"failures":{}"#,
            info.name,
            info.viewers,
            info.published,
            info.status.as_str(),
            info.starts,
            info.failures
        );
        if let SourceStatus::Failed { error, retry_in } = &info.status {
            out.push_str(r#","error":"#);
            push_json_string(&mut out, error);
            let _ = write!(out, r#","retry_in_ms":{}"#, retry_in.as_millis());
        }
        out.push('}');
    }
    out.push(']');
    out
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
