//! The checks: each an `async fn` asserting one property of one backend.

mod clients;
mod framing;
mod headers;
mod lifecycle;
mod overflow;

use std::future::Future;
use std::pin::Pin;

use crate::backend::Backend;
use crate::client::CheckResult;

/// One named check, run for every backend.
#[derive(Clone, Copy)]
pub struct Check {
    /// Its name in the report.
    pub name: &'static str,
    /// Whether it drives a real client (Chromium, ffmpeg): its detail is a
    /// measurement, printed even when it passes.
    pub real_client: bool,
    /// Runs it against a backend.
    pub run: fn(Backend) -> Pin<Box<dyn Future<Output = CheckResult> + Send>>,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

macro_rules! checks {
    ($($module:ident::$name:ident),* $(,)?) => {
        /// Every check, in report order.
        pub const ALL: &[Check] = &[
            $(Check {
                name: stringify!($name),
                real_client: matches!(stringify!($module).as_bytes(), b"clients"),
                run: |backend| Box::pin($module::$name(backend)),
            }),*
        ];
    };
}

checks![
    headers::status_and_content_type_with_boundary,
    headers::boundary_unquoted_and_valid,
    headers::no_cache_defaults,
    headers::user_header_overrides,
    headers::passthrough_routes_unchanged,
    headers::head_request_answered,
    framing::payload_bytes_and_order_exact,
    framing::content_length_exact_per_part,
    framing::close_delimiter_on_finite_end,
    framing::producer_error_ends_cleanly,
    framing::heartbeat_resends_when_idle,
    framing::http2_h2c_stream_valid,
    lifecycle::late_joiner_gets_latest_frame_at_once,
    lifecycle::disconnect_reported_once_and_count_back_to_zero,
    lifecycle::max_clients_gives_503,
    lifecycle::snapshot_answers_the_latest_frame,
    lifecycle::stop_closes_every_stream,
    overflow::slow_reader_keep_latest,
    overflow::slow_reader_drop_newest,
    overflow::slow_reader_wait,
    overflow::slow_reader_disconnect,
    clients::ffmpeg_decodes_advance_headers,
    clients::ffmpeg_decodes_standard,
    clients::chromium_draws_frames_advance_headers,
    clients::chromium_draws_frames_standard,
];
