//! The checks: each an `async fn` asserting one property of one backend.

mod auth;
mod framing;
mod headers;
mod identical;
mod lifecycle;
mod overflow;
mod url;

use std::future::Future;
use std::pin::Pin;

use crate::Target;
use crate::client::{CheckResult, Outcome};

/// One named check, run for every target.
#[derive(Clone, Copy)]
pub struct Check {
    /// Its name in the report.
    pub name: &'static str,
    /// Runs it against a target. A check that needs one of our backends
    /// (lifecycle hooks, scenario routes) answers "not applicable" for a URL.
    pub run: fn(Target) -> Pin<Box<dyn Future<Output = CheckResult> + Send>>,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Why a backend-only check does not run against `--url`.
const NEEDS_BACKEND: &str =
    "needs our backend: it configures the layer, drives the producer or reads lifecycle hooks";

macro_rules! checks {
    (any: [$($am:ident::$an:ident),* $(,)?], backend: [$($bm:ident::$bn:ident),* $(,)?] $(,)?) => {
        /// Every check, in report order.
        pub const ALL: &[Check] = &[
            $(Check {
                name: stringify!($an),
                run: |target| Box::pin($am::$an(target)),
            },)*
            $(Check {
                name: stringify!($bn),
                run: |target| match target {
                    Target::Backend(b) => Box::pin($bm::$bn(b)),
                    Target::Url(_) => Box::pin(async {
                        Ok(Outcome::NotApplicable(NEEDS_BACKEND.into()))
                    }),
                },
            },)*
        ];
    };
}

checks! {
    any: [
        url::stream_status_and_multipart_type,
        url::stream_parts_parse_strictly,
        url::head_answers_what_get_would,
    ],
    backend: [
        headers::status_and_content_type_with_boundary,
        headers::boundary_unquoted_and_valid,
        headers::no_cache_defaults,
        headers::user_header_overrides,
        headers::passthrough_routes_unchanged,
        headers::head_request_answered,
        headers::head_when_full_answers_503,
        framing::payload_bytes_and_order_exact,
        framing::content_length_exact_per_part,
        framing::close_delimiter_on_finite_end,
        framing::producer_error_ends_cleanly,
        framing::heartbeat_resends_when_idle,
        framing::http2_h2c_stream_valid,
        framing::no_empty_part_before_own_headers,
        framing::no_empty_part_at_finite_end,
        identical::backends_send_identical_bytes,
        lifecycle::late_joiner_gets_latest_frame_at_once,
        lifecycle::disconnect_reported_once_and_count_back_to_zero,
        lifecycle::max_clients_gives_503,
        lifecycle::snapshot_answers_the_latest_frame,
        lifecycle::stop_closes_every_stream,
        overflow::slow_reader_keep_latest,
        overflow::slow_reader_drop_newest,
        overflow::slow_reader_wait,
        overflow::slow_reader_disconnect,
        auth::bearer_guards_stream_and_snapshot,
        auth::basic_guards_and_challenges,
    ],
}
